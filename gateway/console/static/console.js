// The console's own script (no third-party code). Every page works without
// it; with it, a case page refreshes its items in place every 10 s while
// some item is not final (the server marks the section data-live="true"),
// from GET /console/cases/{id}/progress, without reloading the page.
"use strict";
(function () {
  var every = 10000;

  // A clerk typing into the section (a supplement note) keeps the page
  // as it is: swapping it would lose what was typed.
  function busy(section) {
    if (section.contains(document.activeElement) && document.activeElement !== section) {
      return true;
    }
    var fields = section.querySelectorAll("input[type=text], textarea");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== "") {
        return true;
      }
    }
    return false;
  }

  function live(section) {
    var items = section.querySelector("[data-live]");
    return items !== null && items.getAttribute("data-live") === "true";
  }

  function refresh(section) {
    var url = section.getAttribute("data-refresh");
    if (!live(section)) {
      return;
    }
    if (busy(section) || document.hidden) {
      window.setTimeout(function () { refresh(section); }, every);
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) {
        // Signed out or gone: the response is another page; stop quietly.
        if (!res.ok || res.redirected) {
          throw new Error("stop");
        }
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.body.querySelector("[data-live]");
        if (fresh === null) {
          throw new Error("stop");
        }
        if (!busy(section)) {
          section.replaceChildren(document.importNode(fresh, true));
        }
        window.setTimeout(function () { refresh(section); }, every);
      })
      .catch(function (err) {
        // A network hiccup: try again later; anything else: stop.
        if (err.message !== "stop") {
          window.setTimeout(function () { refresh(section); }, every);
        }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var sections = document.querySelectorAll("section[data-refresh]");
    for (var i = 0; i < sections.length; i++) {
      (function (section) {
        window.setTimeout(function () { refresh(section); }, every);
      })(sections[i]);
    }
  });
})();
