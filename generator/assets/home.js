/* report-generator: the home page's filter and sort (home.html). Without this script the page is the plain list,
   newest first. The form's state lives in the address (?rating=…&topic=…&language=…&sort=title), so a filtered
   view can be shared and the back button steps through the changes. Reads only the page's own data-* attributes;
   writes text, never markup. */
(function () {
  "use strict";
  var form = document.querySelector("form.rg-home-filter");
  var list = document.querySelector(".rg-home");
  if (!form || !list || !window.URLSearchParams) {
    return;
  }
  var cards = Array.prototype.slice.call(list.querySelectorAll(".rg-home-report"));
  var status = document.querySelector(".rg-home-count");
  var empty = document.querySelector(".rg-home-empty");
  var names = ["rating", "topic", "language", "sort"];
  var byTitle = null;
  var placed = cards;  // the order the cards stand in on the page: the page's own (newest first) to begin with
  var collator = new Intl.Collator(document.documentElement.lang || undefined, {sensitivity: "base"});

  function select(name) {
    return form.elements.namedItem(name);
  }

  function fromAddress() {
    var query = new URLSearchParams(window.location.search);
    names.forEach(function (name) {
      var field = select(name);
      if (!field) {
        return;
      }
      var wanted = query.get(name) || "";
      var known = Array.prototype.some.call(field.options, function (option) { return option.value === wanted; });
      field.value = known ? wanted : field.options[0].value;
    });
  }

  function toAddress() {
    var query = new URLSearchParams();
    names.forEach(function (name) {
      var field = select(name);
      if (field && field.value !== field.options[0].value) {
        query.set(name, field.value);
      }
    });
    var search = query.toString();
    var address = window.location.pathname + (search ? "?" + search : "");
    if (address !== window.location.pathname + window.location.search) {
      window.history.pushState(null, "", address);
    }
  }

  function value(name) {
    var field = select(name);
    return field ? field.value : "";
  }

  function apply() {
    var rating = value("rating");
    var topic = value("topic");
    var language = value("language");
    var order = cards;
    if (value("sort") === "title") {
      byTitle = byTitle || cards.slice().sort(function (a, b) {
        return collator.compare(a.getAttribute("data-title"), b.getAttribute("data-title"));
      });
      order = byTitle;
    }
    var shown = 0;
    // Only what changes is touched: a card whose visibility stays is left alone, and the cards are moved only when
    // the sort changes (a filter keeps their order), so a long list does not relayout on every choice.
    cards.forEach(function (card) {
      var topics = " " + card.getAttribute("data-topics") + " ";
      var match = (!rating || card.getAttribute("data-rating") === rating) &&
        (!topic || topics.indexOf(" " + topic + " ") >= 0) &&
        (!language || card.getAttribute("data-language") === language);
      if (card.hidden === match) {
        card.hidden = !match;
      }
      shown += match ? 1 : 0;
    });
    if (order !== placed) {
      var fragment = document.createDocumentFragment();
      order.forEach(function (card) {
        fragment.appendChild(card);
      });
      list.appendChild(fragment);
      placed = order;
    }
    if (status) {
      status.textContent = form.getAttribute("data-status")
        .replace("%(shown)s", String(shown)).replace("%(total)s", String(cards.length));
    }
    if (empty && empty.hidden !== (shown > 0)) {
      empty.hidden = shown > 0;
    }
  }

  form.addEventListener("change", function () {
    apply();
    toAddress();
  });
  form.addEventListener("reset", function () {
    window.setTimeout(function () {
      apply();
      toAddress();
    }, 0);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });
  window.addEventListener("popstate", function () {
    fromAddress();
    apply();
  });
  fromAddress();
  apply();
  form.hidden = false;
  if (status) {
    status.setAttribute("aria-live", "polite");
  }
}());
