// Bar chart of a round's total scores, coloured by grade (data from the json_script element).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("round-chart-data");
    var target = document.getElementById("round-chart");
    if (!source || !target || typeof echarts === "undefined") { return; }
    var rows = JSON.parse(source.textContent);
    var colours = { excellent: "#2e7d32", good: "#1565c0", fair: "#f9a825", poor: "#c62828" };
    var chart = echarts.init(target);
    chart.setOption({
      grid: { left: 40, right: 10, top: 20, bottom: 80 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { rotate: 30 } },
      yAxis: { type: "value" },
      series: [{
        type: "bar",
        data: rows.map(function (r) { return { value: r.score, itemStyle: { color: colours[r.grade] || "#888" } }; })
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
