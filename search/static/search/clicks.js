/* Search insights: tell the shop which result a shopper opened, without delaying the
   navigation. Result links carry data-search-id, data-sku and data-position (the place the
   search showed the product); the link itself works the same with or without this script.
   navigator.sendBeacon queues the request so it survives the page unloading; its string
   body goes as text/plain, which the events endpoint reads as JSON (no CORS preflight, no
   CSRF token: the endpoint is anonymous). */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = (script && script.getAttribute("data-events-url")) || "/api/v1/events";

  function send(link) {
    var position = parseInt(link.getAttribute("data-position"), 10);
    var body = JSON.stringify({
      search_id: link.getAttribute("data-search-id"),
      sku: link.getAttribute("data-sku"),
      type: "click",
      position: position > 0 ? position : undefined
    });
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
      if (window.fetch) {
        fetch(url, { method: "POST", body: body, keepalive: true, credentials: "omit",
                     headers: { "Content-Type": "text/plain" } }).catch(function () {});
      }
    } catch (e) { /* never in the shopper's way */ }
  }

  function onClick(event) {
    // Left click, middle click (auxclick) and modified clicks (new tab) all open the product.
    if (event.type === "auxclick" && event.button !== 1) return;
    var target = event.target;
    var link = target && target.closest ? target.closest("a[data-search-id]") : null;
    if (link) send(link);
  }

  document.addEventListener("click", onClick, true);
  document.addEventListener("auxclick", onClick, true);
})();
