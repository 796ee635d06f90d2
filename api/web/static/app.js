/* Our own behaviour, small on purpose (no inline script: the Content-Security-Policy refuses it).
   GOV.UK's error summary: after a form comes back with errors, focus moves to "Ada masalah", so a
   screen reader reads it first and a keyboard user is one Tab from the first link. */
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
});

/* Beranda · Tugas saya: a counter swaps the section in place (htmx).  htmx keeps focus on an element
   with the same id (the counter clicked); when the element clicked is gone ("Tampilkan semua tugas"),
   focus goes to the section's heading instead of falling back to the top of the page. */
document.addEventListener("htmx:afterSettle", function (event) {
  var section = document.getElementById("tugas-saya");
  var target = event.detail.target;
  if (section && target && target.id === "tugas-saya" && document.activeElement === document.body) {
    var heading = document.getElementById("judul-tugas");
    if (heading) {
      heading.focus();
    }
  }
});
