// Sign-up: suggest the portal's subdomain from the business name as it is typed, until the
// person edits the subdomain themselves. Without JavaScript the server suggests one instead.
(function () {
  "use strict";
  var source = document.querySelector("[data-subdomain-source]");
  var target = document.querySelector("[data-subdomain-target]");
  if (!source || !target) { return; }
  var edited = target.value !== "";
  function slug(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
  }
  target.addEventListener("input", function () { edited = target.value !== ""; });
  source.addEventListener("input", function () {
    if (!edited) { target.value = slug(source.value); }
  });
})();
