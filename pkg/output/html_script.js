// Sorting and filtering only: every row is in the markup, so the report
// reads the same with scripts off. Nothing here builds content from data.
(function () {
  "use strict";
  var table = document.getElementById("accounts");
  var controls = document.getElementById("controls");
  if (!table || !controls) {
    return;
  }
  document.documentElement.classList.add("js");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var position = new Map(rows.map(function (r, i) { return [r, i]; }));
  var query = document.getElementById("filter-text");
  var type = document.getElementById("filter-type");
  var shown = document.getElementById("filter-count");
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var sorted = { col: -1, dir: 1 };

  function key(row, col) {
    var c = row.cells[col];
    return (c.hasAttribute("data-v") ? c.getAttribute("data-v") : c.textContent).trim().toLowerCase();
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) {
      return x - y;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function sortBy(col) {
    var dir = sorted.col === col ? -sorted.dir : 1;
    sorted = { col: col, dir: dir };
    rows.slice().sort(function (r1, r2) {
      return dir * compare(key(r1, col), key(r2, col)) || position.get(r1) - position.get(r2);
    }).forEach(function (r) { body.appendChild(r); });
    headers.forEach(function (th, i) {
      if (i === col) {
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }
  headers.forEach(function (th, col) {
    var button = document.createElement("button");
    button.type = "button";
    button.title = "Sort by this column";
    while (th.firstChild) {
      button.appendChild(th.firstChild);
    }
    th.appendChild(button);
    button.addEventListener("click", function () { sortBy(col); });
  });

  function matches(row, text, want) {
    if (text && row.textContent.toLowerCase().indexOf(text) < 0) {
      return false;
    }
    var findings = (row.getAttribute("data-findings") || "").split(" ").filter(Boolean);
    switch (want) {
      case "":
        return true;
      case "*findings":
        return findings.length > 0;
      case "*gap":
        return row.getAttribute("data-gap") === "1";
      case "*clean":
        return findings.length === 0 && row.getAttribute("data-gap") !== "1";
    }
    return findings.indexOf(want) >= 0;
  }
  function filter() {
    var text = query.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (r) {
      r.hidden = !matches(r, text, type.value);
      n += r.hidden ? 0 : 1;
    });
    shown.textContent = n + " of " + rows.length + " accounts shown";
  }
  query.addEventListener("input", filter);
  type.addEventListener("change", filter);
  controls.hidden = false;
  filter();
})();
