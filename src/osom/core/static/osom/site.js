// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to an error summary so keyboard and screen-reader users hear it first.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
    // A form sent to an address with a #fragment (a form in a <details>) lands there, and
    // the browser moves the focus to that fragment after this runs: take it back, unless
    // the person has already moved it.
    window.addEventListener("load", function () {
      if (!document.activeElement || document.activeElement === document.body) { summary.focus(); }
    });
  }
  // "Add another" rows in repeating forms: clone the template row, renumbering its fields.
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () {
      var prefix = button.getAttribute("data-add-row");
      var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      var template = document.getElementById(prefix + "-template");
      var list = document.getElementById(prefix + "-rows");
      if (!total || !template || !list) { return; }
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var first = list.lastElementChild && list.lastElementChild.querySelector("input, textarea, select");
      if (first) { first.focus(); }
    });
  });
});
