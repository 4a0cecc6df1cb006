// The branding studio: keeps each colour picker and its #RRGGBB field in step, reloads the
// preview frames with the unsaved values as the merchant types (the server renders the real
// templates from them and stores nothing), and refreshes the contrast warnings.
(function () {
  "use strict";
  var form = document.getElementById("branding-form");
  if (!form) return;
  var FIELDS = ["display_name", "primary_color", "accent_color", "sender_name", "support_email", "support_url"];
  var HEX = /^#[0-9a-fA-F]{6}$/;
  var frames = document.querySelectorAll(".studio__frame");
  var warnings = document.getElementById("contrast-warnings");
  var timer = null;

  function query() {
    var params = new URLSearchParams();
    FIELDS.forEach(function (name) {
      var input = form.elements[name];
      if (input) params.set(name, input.value);
    });
    return params;
  }

  function refreshFrames(params) {
    frames.forEach(function (frame) {
      var page = new URLSearchParams(params);
      page.set("page", frame.getAttribute("data-page"));
      frame.src = form.getAttribute("data-preview") + "?" + page.toString();
    });
  }

  function warningNode(item) {
    var box = document.createElement("div");
    box.className = "notice notice--warning contrast-warning";
    var text = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = item.label + " " + item.color;
    text.appendChild(strong);
    text.appendChild(document.createTextNode(
      " is hard to read as a button: its text reaches " + item.ratio.toFixed(1) +
      ":1, and WCAG AA asks for 4.5:1. The nearest shade that passes is "));
    var shade = document.createElement("strong");
    shade.textContent = item.suggestion;
    text.appendChild(shade);
    text.appendChild(document.createTextNode("."));
    var use = document.createElement("button");
    use.type = "button";
    use.className = "button button--small button--secondary";
    use.setAttribute("data-use-colour", item.suggestion);
    use.setAttribute("data-for", item.field);
    use.textContent = "Use " + item.suggestion;
    box.appendChild(text);
    box.appendChild(use);
    return box;
  }

  function refreshWarnings(params) {
    fetch(form.getAttribute("data-contrast") + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        warnings.replaceChildren.apply(warnings, data.warnings.map(warningNode));
      })
      .catch(function () { /* the saved warnings stay; the server checks again on save */ });
  }

  function update() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var params = query();
      refreshFrames(params);
      refreshWarnings(params);
    }, 300);
  }

  function setColour(fieldId, value) {
    var input = document.getElementById(fieldId);
    var picker = form.querySelector('[data-picks="' + fieldId + '"]');
    if (input) input.value = value;
    if (picker && HEX.test(value)) picker.value = value.toLowerCase();
    update();
  }

  form.querySelectorAll("[data-picks]").forEach(function (picker) {
    picker.addEventListener("input", function () { setColour(picker.getAttribute("data-picks"), picker.value); });
  });
  form.addEventListener("input", function (event) {
    var target = event.target;
    if (target.hasAttribute("data-picks")) return;
    var picker = form.querySelector('[data-picks="' + target.id + '"]');
    if (picker && HEX.test(target.value.trim())) picker.value = target.value.trim().toLowerCase();
    update();
  });
  warnings.addEventListener("click", function (event) {
    var button = event.target.closest("[data-use-colour]");
    if (button) setColour(button.getAttribute("data-for"), button.getAttribute("data-use-colour"));
  });

  var container = document.querySelector(".studio__frames");

  // A page drawn at a desktop browser's width, shrunk to fit the column: at the column's own
  // width it would show its phone layout, which the Phone button already shows.
  function fitScaled() {
    var desktop = container.getAttribute("data-width") === "desktop";
    container.querySelectorAll(".studio__scaler").forEach(function (box) {
      var frame = box.querySelector("iframe");
      if (!desktop) {
        frame.style.transform = "";
        box.style.height = "";
        return;
      }
      var scale = Math.min(1, box.clientWidth / Number(box.getAttribute("data-natural-width")));
      frame.style.transform = "scale(" + scale + ")";
      box.style.height = Math.ceil(frame.offsetHeight * scale) + "px";
    });
  }

  document.querySelectorAll(".segmented__option").forEach(function (option) {
    option.addEventListener("click", function () {
      container.setAttribute("data-width", option.getAttribute("data-width"));
      document.querySelectorAll(".segmented__option").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === option));
      });
      fitScaled();
    });
  });
  window.addEventListener("resize", fitScaled);
  fitScaled();
})();
