// Progressive enhancement of the moving form: as the new address is typed, show how the
// address registry reads it (GET /api/v1/address/normalize). Without this script the server
// reads the address when the form is saved and the review page shows the reading.
(function () {
  "use strict";
  var input = document.querySelector("input[data-normalize]");
  if (!input || !window.fetch) { return; }
  var output = document.getElementById("destination-reading");
  var timer = null;
  var latest = 0;
  function show(text) { output.textContent = text; }
  function read() {
    var q = input.value.trim();
    var ticket = ++latest;
    if (q.length < 3) { show(""); return; }
    fetch(input.dataset.normalize + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) {
        if (ticket !== latest || !result) { return; }
        var known = ["machiaza", "machiaza_detail", "rsdtdsp_blk", "rsdtdsp_rsdt", "parcel"];
        if (known.indexOf(result.match_level) >= 0) {
          var rest = (result.unmatched_address || "").trim();
          show(input.dataset.labelRead + " " + result.matched_address + (rest ? " " + rest : ""));
        } else {
          show(input.dataset.labelUnread);
        }
      })
      .catch(function () { show(""); });
  }
  input.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(read, 250);
  });
  if (input.value) { read(); }
})();
