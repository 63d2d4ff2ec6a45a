// Follows a matching run on its status page: every two seconds it asks the server how the run
// is going and, when the answer changed, shows the server's new status panel in the live region
// (screen readers read the change out). It stops when the run is done or failed. A static file
// because the Content-Security-Policy forbids inline script; without script the page has a link
// to update it by hand.
(function () {
  "use strict";
  var panel = document.querySelector("[data-poll-url]");
  if (!panel) {
    return;
  }
  var url = panel.getAttribute("data-poll-url");
  var shown = panel.getAttribute("data-key");
  var EVERY_MS = 2000;
  var AFTER_ERROR_MS = 6000;

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (run) {
        if (run.key !== shown) {
          panel.innerHTML = run.html;
          shown = run.key;
        }
        if (!run.finished) {
          window.setTimeout(poll, EVERY_MS);
        }
      })
      .catch(function () {
        // A network hiccup or a restarting server: keep following, a little slower.
        window.setTimeout(poll, AFTER_ERROR_MS);
      });
  }

  window.setTimeout(poll, EVERY_MS);
})();
