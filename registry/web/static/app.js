// Keyboard shortcuts for screening: a button with data-key="i" is pressed by the key i,
// unless the person is typing in a field. Exclusion asks for a reason first when the
// review has reasons and none is chosen yet (focus moves to the reason list).
(function () {
  "use strict";
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
    var btn = document.querySelector('button[data-key="' + ev.key.toLowerCase() + '"]');
    if (!btn) return;
    ev.preventDefault();
    var reason = document.getElementById("reason");
    if (btn.value === "exclude" && reason && reason.options.length > 1 && !reason.value) {
      reason.focus();
      return;
    }
    btn.click();
  });
})();
