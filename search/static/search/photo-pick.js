/* The photo button of the search boxes names the chosen photo (templates/search/_search_form.html).
   Without script the upload works the same. */
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches(".photo-pick input[type=file]")) return;
  var pick = input.closest(".photo-pick");
  var chosen = input.files.length > 0;
  pick.classList.toggle("chosen", chosen);
  pick.querySelector(".photo-pick-label").textContent = chosen ? input.files[0].name : "Photo";
});
