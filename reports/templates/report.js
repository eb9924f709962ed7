(function () {
  "use strict";
  var tx = JSON.parse(document.getElementById("transcripts").textContent || "[]");
  var cases = Array.prototype.slice.call(document.querySelectorAll("#cases > li.case"));
  var form = document.getElementById("filters");
  var shown = document.getElementById("shown");
  var index = cases.map(function (li) { return li.textContent.toLowerCase(); });

  function text(tag, s, cls) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    e.textContent = s;
    return e;
  }

  // Transcripts of passing and skipped cases are rendered on first open so
  // that a report with thousands of cases stays fast.
  function renderTranscript(li) {
    var i = parseInt(li.getAttribute("data-tx"), 10);
    if (!(i >= 0) || li.getAttribute("data-rendered")) { return; }
    li.setAttribute("data-rendered", "1");
    var box = li.querySelector(".transcript");
    var table = document.createElement("table");
    var head = table.createTHead().insertRow();
    ["time", "conn", "dir", "packet"].forEach(function (h) { var th = text("th", h); th.scope = "col"; head.appendChild(th); });
    var body = table.createTBody();
    tx[i].forEach(function (ev) {
      var tr = body.insertRow();
      tr.className = "ev " + ev.Dir;
      tr.insertCell().textContent = ev.At;
      tr.insertCell().textContent = ev.Conn;
      tr.insertCell().textContent = ev.Arrow + " " + ev.Dir;
      var td = tr.insertCell();
      td.appendChild(text("code", ev.Text));
      if (ev.Note) { td.appendChild(text("div", "!! " + ev.Note, "vnote")); }
      if (ev.Hex) { var h = text("div", "", "hex"); h.appendChild(text("code", ev.Hex)); td.appendChild(h); }
    });
    box.textContent = "";
    box.appendChild(table);
  }

  cases.forEach(function (li) {
    var d = li.querySelector("details");
    d.addEventListener("toggle", function () { if (d.open) { renderTranscript(li); } });
  });

  function apply() {
    var outcomes = {};
    form.querySelectorAll("input[name=outcome]").forEach(function (c) { outcomes[c.value] = c.checked; });
    var version = document.getElementById("f-version").value;
    var tag = document.getElementById("f-tag").value;
    var q = document.getElementById("f-text").value.trim().toLowerCase();
    var n = 0;
    cases.forEach(function (li, i) {
      var ok = outcomes[li.getAttribute("data-outcome")] &&
        (!version || li.getAttribute("data-version") === version) &&
        (!tag || (" " + li.getAttribute("data-tags") + " ").indexOf(" " + tag + " ") >= 0) &&
        (!q || index[i].indexOf(q) >= 0);
      li.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = n + " of " + cases.length + " cases shown";
  }

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  document.getElementById("f-hex").addEventListener("change", function (e) {
    document.body.classList.toggle("show-hex", e.target.checked);
  });
  document.getElementById("expand-all").addEventListener("click", function () {
    cases.forEach(function (li) { if (!li.hidden) { li.querySelector("details").open = true; } });
  });
  if (location.hash) {
    var target = document.getElementById(location.hash.slice(1));
    if (target) { target.querySelector("details").open = true; }
  }
  apply();
})();
