// The packing slip's Print button: shown and wired only where scripts run (the browser's own Print always works).
document.querySelectorAll("button[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
