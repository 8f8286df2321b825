// The consumption shares form: what is left for external users, worked out as the
// percentages are typed (the page says it too when sent; this only saves a round trip).
document.addEventListener("DOMContentLoaded", function () {
  var out = document.getElementById("fx-external");
  if (!out) { return; }
  var boxes = document.querySelectorAll("input[data-share]");
  function hundredths(text) {
    // percentages to two decimal places as whole hundredths, so no float rounding shows
    var t = (text || "").replace("%", "").trim();
    if (t === "") { return 0; }
    if (!/^\d+(\.\d{0,4})?$/.test(t)) { return null; }
    var parts = t.split(".");
    var frac = ((parts[1] || "") + "0000").slice(0, 4);
    return parseInt(parts[0], 10) * 10000 + parseInt(frac, 10);
  }
  function show(units) {
    var sign = units < 0 ? "−" : "";
    units = Math.abs(units);
    var whole = Math.floor(units / 10000);
    var frac = String(units % 10000).padStart(4, "0").replace(/0+$/, "");
    return sign + whole + (frac ? "." + frac : "") + "%";
  }
  function update() {
    var total = 0;
    for (var i = 0; i < boxes.length; i++) {
      var v = hundredths(boxes[i].value);
      if (v === null) { out.textContent = "not known until every share is a number"; out.classList.add("fx-remainder--bad"); return; }
      total += v;
    }
    var left = 1000000 - total;
    out.textContent = left < 0 ? show(left) + ": the shares add up to more than 100%" : show(left);
    out.classList.toggle("fx-remainder--bad", left < 0);
  }
  boxes.forEach(function (box) { box.addEventListener("input", update); });
  update();
});
