// Error summaries (GOV.UK pattern): the summary takes the focus when the page shows it, and
// each of its links moves the focus to the field at fault (the first control of a group),
// not only the view. Without JavaScript the links still scroll to the field.
"use strict";

(function () {
  var summary = document.querySelector(".error-summary");
  if (!summary) return;
  summary.setAttribute("tabindex", "-1");
  summary.focus();
  summary.querySelectorAll("a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!target) return;
      var control = target.matches("input, select, textarea, button")
        ? target
        : target.querySelector("input, select, textarea, button");
      if (!control) return;
      event.preventDefault();
      var legend = target.querySelector("legend") || target.closest(".field") || target;
      legend.scrollIntoView();
      control.focus({ preventScroll: true });
    });
  });
})();
