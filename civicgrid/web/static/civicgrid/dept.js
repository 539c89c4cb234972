// Live deadline countdowns in the department inbox: wall-clock time left until each task's due
// moment (the due moment itself is computed on working time by the server).
(function () {
  "use strict";
  function labels() {
    var el = document.getElementById("dept-i18n");
    try { return el ? JSON.parse(el.textContent) : null; } catch (e) { return null; }
  }
  function format(ms, t) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    var text = (d ? d + t.d + " " : "") + (d || h ? h + t.h + " " : "") + m + t.m;
    return ms >= 0 ? t.left + " " + text : t.over + " " + text;
  }
  function tick() {
    var t = labels();
    if (!t) return;
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(due)) return;
      el.textContent = format(due - now, t);
      el.classList.toggle("past", due < now);
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 30000);
})();
