/* 运行驾驶舱: draws the charts of /cockpit/ and /cockpit/regulator/ from the JSON embedded in the page
   (#cockpit-data, written by json_script) with the vendored ECharts. No requests, no map tiles: the map is
   registered from the GeoJSON of the regions' boundaries. */
(function () {
  "use strict";
  var COLOURS = { green: "#12b76a", yellow: "#f79009", red: "#f04438" };

  function trends(root, trend) {
    if (!root || !trend || !trend.series) return;
    trend.series.forEach(function (series) {
      var box = document.createElement("div");
      box.className = "cockpit-chart";
      box.setAttribute("data-code", series.code);
      root.appendChild(box);
      var marks = series.target === null ? undefined : { symbol: "none", data: [{ yAxis: series.target }], lineStyle: { type: "dashed", color: "#98a2b3" } };
      echarts.init(box).setOption({
        title: { text: series.name + (series.unit ? "（" + series.unit + "）" : ""), textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" },
        grid: { left: 48, right: 16, top: 36, bottom: 28 },
        xAxis: { type: "category", data: trend.months },
        yAxis: { type: "value", scale: true },
        series: [{ type: "line", name: series.name, data: series.values, connectNulls: false, markLine: marks }]
      });
    });
  }

  function map(box, data) {
    if (!box || !data || !data.geojson || !data.geojson.features.length) return;
    var name = "cockpit-" + data.indicator.code;
    echarts.registerMap(name, data.geojson);
    var low = data.higher_is_better ? "#f04438" : "#12b76a", high = data.higher_is_better ? "#12b76a" : "#f04438";
    // With a legend the map uses the indicator's own green/yellow/red bands, so it agrees with the cards;
    // without one, a continuous scale between the townships' lowest and highest values.
    var visual = data.legend && data.legend.length ? {
      type: "piecewise", left: "left", bottom: 10,
      pieces: data.legend.map(function (band) {
        var piece = { color: COLOURS[band.color] || "#98a2b3", label: band.label || undefined };
        if (band.from !== null && band.from !== undefined) piece.gte = Number(band.from);
        if (band.to !== null && band.to !== undefined) piece.lte = Number(band.to);
        return piece;
      })
    } : {
      min: data.min, max: data.max === data.min ? data.min + 1 : data.max, calculable: true,
      left: "left", bottom: 10, inRange: { color: [low, "#fdb022", high] }, text: ["", ""]
    };
    echarts.init(box).setOption({
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var v = p.value === undefined || p.value === null || isNaN(p.value) ? "—" : p.value;
          return p.name + "<br>" + data.indicator.name + "：" + v + (data.indicator.unit || "");
        }
      },
      visualMap: visual,
      series: [{
        type: "map", map: name, roam: true, nameProperty: "name",
        label: { show: true, fontSize: 10 },
        data: data.rows.map(function (row) { return { name: row.name, value: row.value }; })
      }]
    });
  }

  function bar(box, chart) {
    if (!box || !chart || !chart.indicator) return;
    echarts.init(box).setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, top: 24, bottom: 80 },
      xAxis: { type: "category", data: chart.names, axisLabel: { rotate: 30 } },
      yAxis: { type: "value", name: chart.indicator.unit || "" },
      series: [{
        type: "bar", name: chart.indicator.name,
        data: chart.values.map(function (value, i) {
          return { value: value, itemStyle: { color: COLOURS[chart.colours[i]] || "#4a7fb5" } };
        })
      }]
    });
  }

  // The unit list belongs to the consortium shown: choosing another consortium starts from its whole,
  // or the old consortium's member would go with the form and be refused.
  function consortiumResetsUnit() {
    var consortium = document.querySelector("[data-testid=cockpit-consortium]");
    if (!consortium || !consortium.form) return;
    consortium.addEventListener("change", function () {
      var unit = consortium.form.querySelector("select[name=unit]");
      if (unit) unit.value = "consortium";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    consortiumResetsUnit();
    var script = document.getElementById("cockpit-data");
    if (!script || typeof echarts === "undefined") return;
    var data = JSON.parse(script.textContent);
    trends(document.querySelector("[data-cockpit-trends]"), data.trend);
    map(document.querySelector("[data-cockpit-map]"), data.map);
    bar(document.querySelector("[data-cockpit-bar]"), data.bar);
    window.addEventListener("resize", function () {
      document.querySelectorAll("[_echarts_instance_]").forEach(function (el) { echarts.getInstanceByDom(el).resize(); });
    });
  });
})();
