/* Our own behaviour, small on purpose (no inline script: the Content-Security-Policy refuses it).
   GOV.UK's error summary: after a form comes back with errors, focus moves to "Ada masalah", so a
   screen reader reads it first and a keyboard user is one Tab from the first link. */
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
});
