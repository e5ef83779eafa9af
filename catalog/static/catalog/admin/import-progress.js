/* The import progress page (templates/admin/catalog/importjob/progress.html): shows the
   bar and polls the job's status while it runs. */
(function () {
  var box = document.getElementById("import-progress");
  var bar = document.getElementById("import-bar");
  // The bar's width comes from its data-percent (a style attribute would break the CSP).
  bar.firstElementChild.style.width = bar.firstElementChild.dataset.percent + "%";
  if (box.dataset.finished === "1") return;
  function set(id, value) { document.getElementById(id).textContent = value; }
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (s) {
        bar.firstElementChild.style.width = s.percent + "%";
        bar.setAttribute("aria-valuenow", s.percent);
        set("import-status", s.status);
        document.getElementById("import-status").className = "import-status " + s.status;
        set("count-total", s.total === null ? "?" : s.total);
        ["processed", "created", "updated", "unchanged", "failed"].forEach(function (k) { set("count-" + k, s[k]); });
        set("count-warnings", s.warnings);
        var message = document.getElementById("import-message");
        message.textContent = s.message;
        message.hidden = !s.message;
        if (s.finished) { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
