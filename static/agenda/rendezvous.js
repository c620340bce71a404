// AG-2: suggest known professionals (name or RPPS) in the appointment form.
(function () {
  "use strict";
  var form = document.getElementById("appointment-form");
  if (!form) return;
  var input = form.querySelector('input[list="professionals"]');
  var list = document.getElementById("professionals");
  var url = form.getAttribute("data-search-url");
  var timer = null;
  var last = "";
  if (!input || !list || !url) return;
  input.addEventListener("input", function () {
    var query = input.value.trim();
    if (query.length < 2 || query === last || /RPPS \d{11}$/.test(query)) return;
    clearTimeout(timer);
    timer = setTimeout(function () {
      last = query;
      fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) {
          list.replaceChildren();
          data.results.forEach(function (row) {
            var option = document.createElement("option");
            option.value = row.label;
            option.textContent = row.profession;
            list.appendChild(option);
          });
        })
        .catch(function () {});
    }, 250);
  });
})();
