// The API explorers render a few controls with no accessible name (axe: select-name, label, button-name):
// ReDoc's drop-downs of media types and of examples, GraphiQL's editors, Swagger UI's copy buttons; and Swagger
// UI's examples and responses are scrolling blocks a keyboard cannot reach (axe: scrollable-region-focusable).
// This names each control and makes each block focusable as they appear. It only adds attributes; the explorers
// work the same without it.
(function () {
  "use strict";
  var NAMES = [
    ["select.dropdown-select", function (select) {
      return select.options.length && select.options[0].value.indexOf("/") > 0 ? "Media type" : "Example";
    }],
    [".graphiql-query-editor textarea", function () { return "Query"; }],
    [".graphiql-editor-tool .graphiql-editor:nth-child(1) textarea", function () { return "Variables"; }],
    [".graphiql-editor-tool .graphiql-editor:nth-child(2) textarea", function () { return "Headers"; }],
    [".graphiql-response textarea", function () { return "Response"; }],
    [".swagger-ui .copy-to-clipboard button", function () { return "Copy to clipboard"; }],
  ];

  var SCROLLING = ".swagger-ui pre.microlight, .swagger-ui .highlight-code pre";

  function amend() {
    NAMES.forEach(function (rule) {
      document.querySelectorAll(rule[0]).forEach(function (control) {
        if (!control.hasAttribute("aria-label")) {
          control.setAttribute("aria-label", rule[1](control));
        }
      });
    });
    document.querySelectorAll(SCROLLING).forEach(function (block) {
      if (!block.hasAttribute("tabindex")) {
        block.setAttribute("tabindex", "0");
      }
    });
  }

  new MutationObserver(amend).observe(document.documentElement, { childList: true, subtree: true });
  amend();
})();
