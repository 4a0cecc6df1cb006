// Copy buttons of the merchant dashboard: each [data-copy] button copies the value of the
// field it names. The buttons start hidden, so without JavaScript nothing looks broken: the
// fields are read-only and selectable.
(function () {
  "use strict";
  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) { status.textContent = text; }
  }
  function copy(id) {
    var field = document.getElementById(id);
    if (!field) { return; }
    var done = function () { say(id, "Copied."); };
    var failed = function () {
      field.focus();
      field.select();
      say(id, "Selected: press Ctrl+C (or ⌘C) to copy.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, failed);
    } else {
      failed();
    }
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copy(button.getAttribute("data-copy")); });
  });
})();
