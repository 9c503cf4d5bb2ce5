// Countdowns for pending deadlines: <span class="countdown" data-deadline="ISO 8601">.
// They count on the server's business clock (<meta name="business-now">: the demo clock
// when one is set), not the browser's, so a page and its verdicts agree on "now".
(function () {
  var meta = document.querySelector('meta[name="business-now"]');
  var offset = meta ? Date.parse(meta.content) - Date.now() : 0;
  function fmt(ms) {
    var late = ms < 0; ms = Math.abs(ms);
    var h = Math.floor(ms / 3600000), m = Math.floor(ms % 3600000 / 60000), s = Math.floor(ms % 60000 / 1000);
    var text = (h >= 24 ? Math.floor(h / 24) + "天" + (h % 24) + "时" : h + "时") + m + "分" + s + "秒";
    return late ? "已超时 " + text : "剩余 " + text;
  }
  function tick() {
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      el.textContent = fmt(Date.parse(el.dataset.deadline) - (Date.now() + offset));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
  document.addEventListener("htmx:afterSwap", tick);
})();
// Charts: <div class="chart" data-option='{...ECharts option...}'>.
(function () {
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll(".chart[data-option]").forEach(function (el) {
      var chart = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(el.dataset.option));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();
