/* Search-as-you-type: a suggestion list under each search box that asks for it
   (input[data-suggest-url]). The box becomes an ARIA combobox: Up/Down move through the
   suggestions, Enter opens the highlighted one (or searches the typed text), Esc closes;
   the mouse works too. A past query or brand searches it, a product opens its page, a
   category opens the search filtered by it. Without this script the box is a plain search
   box. No inline script or style: the page may run under a strict Content-Security-Policy. */
(function () {
  "use strict";
  var DEBOUNCE_MS = 150;
  var GROUPS = [
    { key: "queries", label: "Searches" },
    { key: "products", label: "Products" },
    { key: "categories", label: "Categories" }
  ];
  var boxes = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function Suggest(input) {
    var id = "vt-suggest-" + (++boxes);
    var form = input.form;
    var url = input.getAttribute("data-suggest-url");
    var category = input.getAttribute("data-suggest-category") || "";
    var popup = el("div", "suggest-popup");
    var list = el("div", "suggest-list");
    var options = [];
    var active = -1;
    var timer = null;
    var pending = null;
    var asked = "";

    list.id = id;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    popup.hidden = true;
    popup.appendChild(list);
    input.insertAdjacentElement("afterend", popup);
    form.classList.add("has-suggest");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);
    input.setAttribute("autocomplete", "off");

    function close() {
      popup.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      if (active >= 0 && options[active]) options[active].setAttribute("aria-selected", "false");
      active = index;
      if (index < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      var option = options[index];
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    function searchUrl(params) {
      var query = Object.keys(params).map(function (name) {
        return encodeURIComponent(name) + "=" + encodeURIComponent(params[name]);
      });
      return (form.getAttribute("action") || "/search") + "?" + query.join("&");
    }

    function choose(option) {
      var kind = option.getAttribute("data-kind");
      var value = option.getAttribute("data-value");
      close();
      if (kind === "product") {
        window.location.href = value;
      } else if (kind === "category") {
        window.location.href = searchUrl({ q: option.getAttribute("data-label"), category: value });
      } else {
        input.value = value;
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    }

    function option(kind, value, label, extra) {
      var node = el("div", "suggest-option suggest-" + kind);
      node.id = id + "-" + options.length;
      node.setAttribute("role", "option");
      node.setAttribute("aria-selected", "false");
      node.setAttribute("data-kind", kind);
      node.setAttribute("data-value", value);
      node.setAttribute("data-label", label);
      if (extra && extra.image) {
        var img = el("img", "suggest-image");
        img.src = extra.image;
        img.alt = "";
        node.appendChild(img);
      }
      node.appendChild(el("span", "suggest-text", label));
      if (extra && extra.price) node.appendChild(el("span", "suggest-price", extra.price));
      node.addEventListener("mousedown", function (event) { event.preventDefault(); });
      node.addEventListener("click", function () { choose(node); });
      options.push(node);
      return node;
    }

    function render(data) {
      list.textContent = "";
      options = [];
      active = -1;
      GROUPS.forEach(function (group) {
        var items = data[group.key] || [];
        if (!items.length) return;
        var box = el("div", "suggest-group");
        var title = el("div", "suggest-label", group.label);
        title.id = id + "-" + group.key;
        title.setAttribute("role", "presentation");
        box.setAttribute("role", "group");
        box.setAttribute("aria-labelledby", title.id);
        box.appendChild(title);
        items.forEach(function (item) {
          if (group.key === "queries") box.appendChild(option("query", item, item));
          else if (group.key === "products") {
            box.appendChild(option("product", item.url, item.name,
                                   { image: item.image, price: item.price }));
          } else box.appendChild(option("category", item.path, item.label));
        });
        list.appendChild(box);
      });
      if (options.length) {
        popup.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
    }

    function ask() {
      var prefix = input.value.trim();
      if (!prefix) { asked = ""; close(); return; }
      if (prefix === asked && options.length) { popup.hidden = false; return; }
      asked = prefix;
      if (pending && pending.abort) pending.abort();
      pending = window.AbortController ? new AbortController() : null;
      var query = "?q=" + encodeURIComponent(prefix) + "&limit=6" +
        (category ? "&category=" + encodeURIComponent(category) : "");
      fetch(url + query, { credentials: "same-origin", signal: pending && pending.signal })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && input.value.trim() === prefix && document.activeElement === input) {
            render(data);
          }
        })
        .catch(function () { /* a suggestion is never in the shopper's way */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      var open = !popup.hidden && options.length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!open) { if (options.length) { popup.hidden = false; input.setAttribute("aria-expanded", "true"); } return; }
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next >= options.length) next = -1;
        if (next < -1) next = options.length - 1;
        highlight(next);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          choose(options[active]);
        } else {
          close();  // the form searches the typed text
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        }
      }
    });
    input.addEventListener("blur", function () { close(); });
  }

  function start() {
    var inputs = document.querySelectorAll("input[data-suggest-url]");
    for (var i = 0; i < inputs.length; i++) {
      if (window.fetch && inputs[i].form) Suggest(inputs[i]);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
