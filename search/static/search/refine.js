/* The results page's refine sidebar (templates/search/results.html). Progressive: without
   script the sidebar is a plain form with an "Apply filters" button. */
(function () {
  var form = document.getElementById("refine");
  if (!form) return;
  // Empty fields (no price typed, "All categories") and the default sort stay out of the URL.
  form.addEventListener("formdata", function (event) {
    Array.from(event.formData.entries()).forEach(function (entry) {
      if (entry[1] === "" || (entry[0] === "sort" && entry[1] === "relevance")) {
        event.formData.delete(entry[0]);
      }
    });
  });
  document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    });
  });
})();
