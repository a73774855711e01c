// Starts Swagger UI on /docs with the server's own OpenAPI document (no CDN, no inline script),
// and mends what Swagger UI draws without a name or keyboard access (WCAG 2.2 AA).
"use strict";

function mend(root) {
  // A parameter's value chooser is named by the parameter.
  root.querySelectorAll("tr[data-param-name] select:not([aria-label])").forEach(function (select) {
    var row = select.closest("tr[data-param-name]");
    select.setAttribute("aria-label", row.getAttribute("data-param-name"));
  });
  // Examples and code blocks scroll: they take the keyboard focus so they can be scrolled.
  root.querySelectorAll(".example, .microlight, .highlight-code > pre").forEach(function (block) {
    if (!block.hasAttribute("tabindex")) block.setAttribute("tabindex", "0");
  });
}

window.addEventListener("DOMContentLoaded", function () {
  var container = document.getElementById("swagger-ui");
  new MutationObserver(function () { mend(container); }).observe(container, {
    childList: true,
    subtree: true,
  });
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    // Deep links would put a link inside each operation's toggle button (nested controls).
    deepLinking: false,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
