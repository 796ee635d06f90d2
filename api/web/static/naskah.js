/* The naskah pages' behaviour (no inline script: the Content-Security-Policy refuses it).
   Pratinjau: each page's text sits beside its image; a sighted reader may fold it away with a button.
   Folded text is only visually hidden (Bootstrap's .visually-hidden), so a screen reader still reads
   every page.  Without JavaScript the text simply stays shown. */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".halaman-teks[data-lipat]").forEach(function (block) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-primary mb-2 tombol-teks";
    button.setAttribute("aria-controls", block.id);
    function show(open) {
      block.classList.toggle("visually-hidden", !open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "Sembunyikan teks halaman" : "Tampilkan teks halaman";
    }
    button.addEventListener("click", function () {
      show(block.classList.contains("visually-hidden"));
    });
    block.parentNode.insertBefore(button, block);
    show(false);
  });
});
