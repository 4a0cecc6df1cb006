// The copy of the merchant's Stripe data, kept moving: polls /dashboard/sync.json every 1.5 s
// while the copy is starting or running, and words it as app/merchant/sync_progress.py does.
// Without JavaScript the section shows the state at load and a Refresh link.
(function () {
  "use strict";
  var section = document.querySelector("[data-sync-url]");
  if (!section) { return; }
  var UNDER_WAY = ["queued", "running"];
  var BADGES = {
    done: ["Up to date", "badge--ok"], failed: ["Stopped", "badge--danger"],
    running: ["Copying", "badge--warn"], queued: ["Starting", "badge--warn"]
  };
  var EVERY_MS = 1500;
  var failures = 0;

  function $(selector) { return section.querySelector(selector); }

  function timeLeft(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }
    if (seconds < 60) { return "Less than a minute left"; }
    var minutes = Math.round(seconds / 60);
    if (minutes < 90) { return "About " + minutes + " minute" + (minutes === 1 ? "" : "s") + " left"; }
    return "About " + Math.round(minutes / 60) + " hours left";
  }

  function summary(report) {
    switch (report.status) {
      case "queued": return "Starting to copy your Stripe data…";
      case "running":
        return "Copying your Stripe data" + (report.percent === null ? "" : ": " + report.percent + "% done") + ".";
      case "done":
        return "Your Stripe data is copied. Your customers see it in the portal, and Stripe now tells Billfold of every change.";
      case "failed": return "Copying your Stripe data stopped before it finished.";
      default: return "Billfold has not copied your Stripe data yet.";
    }
  }

  function showPhase(phase) {
    var item = section.querySelector('[data-sync-phase="' + phase.name + '"]');
    if (!item) { return; }
    var bar = item.querySelector("progress");
    var count = item.querySelector(".sync__count");
    var of = phase.of, visited = Math.min(phase.visited || 0, of || 0), text, value = 0, max = 1;
    if (phase.state === "done") { value = 1; text = phase.done + " copied"; }
    else if (phase.state === "waiting") { text = "Waiting"; }
    else if (of) { value = visited; max = of; text = (phase.state === "failed" ? "Stopped at " : "") + visited + " of " + of; }
    else if (phase.state === "failed") { text = "Stopped"; }
    else { value = null; text = phase.done ? phase.done + " so far" : "Reading…"; }
    bar.max = max;
    if (value === null) { bar.removeAttribute("value"); } else { bar.value = value; }
    count.textContent = text;
    item.className = "sync__phase sync__phase--" + phase.state;
  }

  function show(report) {
    var underWay = UNDER_WAY.indexOf(report.status) !== -1;
    section.setAttribute("data-sync-status", report.status);
    section.className = "card sync sync--" + report.status;
    var badge = $("[data-sync-badge]"), label = BADGES[report.status] || ["Not copied", ""];
    badge.textContent = label[0];
    badge.className = "badge sync__badge " + label[1];
    $("[data-sync-summary]").textContent = summary(report);
    var time = $("[data-sync-time]"), left = underWay ? timeLeft(report.seconds_left) : "";
    time.textContent = left;
    time.hidden = !left;
    var overall = $("[data-sync-overall]");
    overall.hidden = !underWay;
    if (report.percent === null) { overall.removeAttribute("value"); } else { overall.value = report.percent; }
    overall.textContent = report.percent === null ? "" : report.percent + "%";
    report.phases.forEach(showPhase);
    $("[data-sync-failure]").hidden = report.status !== "failed";
    $("[data-sync-error]").textContent = report.error ? "Stripe's answer: " + report.error : "";
  }

  function poll() {
    fetch(section.getAttribute("data-sync-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (report) {
        failures = 0;
        show(report);
        if (UNDER_WAY.indexOf(report.status) !== -1) { window.setTimeout(poll, EVERY_MS); }
      })
      .catch(function () {
        // A dropped request (a restart, a flaky network): keep trying, slower; the Refresh
        // link is still there.
        failures += 1;
        if (failures < 20) { window.setTimeout(poll, EVERY_MS * Math.min(failures + 1, 5)); }
      });
  }

  if (UNDER_WAY.indexOf(section.getAttribute("data-sync-status")) !== -1) {
    $("[data-sync-refresh]").hidden = true; // the page updates itself
    window.setTimeout(poll, EVERY_MS);
  }
})();
