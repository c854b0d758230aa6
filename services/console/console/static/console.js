// The console's only page script besides the map: a print button for the dashboard.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
