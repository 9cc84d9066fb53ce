/* 运行驾驶舱: draws the charts of /cockpit/ and /cockpit/regulator/ from the JSON embedded in the page
   (#cockpit-data, written by json_script) with the vendored ECharts. No requests, no map tiles: the map is
   registered from the GeoJSON of the regions' boundaries. */
(function () {
  "use strict";
  var COLOURS = { green: "#12b76a", yellow: "#f79009", red: "#f04438" };
  // The page's punctuation (views.chart_labels, in the reader's language); Chinese until the page says.
  var LABELS = { with_unit: "%(name)s（%(unit)s）", band: "（%(band)s）", colon: "：" };

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, key) { return values[key]; });
  }

  // A value with its unit as the pages write it (models.with_unit): Chinese units and symbols follow the
  // number directly ("12元", "80%"), a unit in English after a space ("12 yuan").
  function withUnit(value, unit) {
    if (!unit) return String(value);
    return unit === "%" || unit.charCodeAt(0) > 127 ? value + unit : value + " " + unit;
  }

  function trends(root, trend) {
    if (!root || !trend || !trend.series) return;
    trend.series.forEach(function (series) {
      var box = document.createElement("div");
      box.className = "cockpit-chart";
      box.setAttribute("data-code", series.code);
      root.appendChild(box);
      var marks = series.target === null ? undefined : { symbol: "none", data: [{ yAxis: series.target }], lineStyle: { type: "dashed", color: "#98a2b3" } };
      var title = series.unit ? fill(LABELS.with_unit, { name: series.name, unit: series.unit }) : series.name;
      // A long English name is wider than the chart: it ends in "…" inside the box, the whole name on hover.
      box.title = title;
      echarts.init(box).setOption({
        title: { text: title, textStyle: { fontSize: 13, width: Math.max(box.clientWidth - 16, 80), overflow: "truncate", ellipsis: "…" } },
        tooltip: { trigger: "axis" },
        grid: { left: 48, right: 32, top: 44, bottom: 28 }, // right: room for the target line's label
        xAxis: { type: "category", data: trend.months },
        // A share (unit %, values within 0–100) gets the whole 0–100 axis: the selector says so (y_min/y_max).
        yAxis: series.y_max === null || series.y_max === undefined
          ? { type: "value", scale: true }
          : { type: "value", min: series.y_min, max: series.y_max },
        series: [{ type: "line", name: series.name, data: series.values, connectNulls: false, markLine: marks }]
      });
    });
  }

  function map(box, data) {
    if (!box || !data || !data.geojson || !data.geojson.features.length) return;
    var name = "cockpit-" + data.indicator.code;
    echarts.registerMap(name, data.geojson);
    var low = data.higher_is_better ? "#f04438" : "#12b76a", high = data.higher_is_better ? "#12b76a" : "#f04438";
    var banded = data.legend && data.legend.length;
    // With a legend each region takes the colour the server gave it (row.colour: the indicator's band, the
    // same rule as the cards and the rankings) and the page shows the legend under the map; without one, a
    // continuous scale between the regions' lowest and highest values.
    var option = {
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var v = p.value === undefined || p.value === null || isNaN(p.value) ? "—" : p.value;
          var band = p.data && p.data.band ? fill(LABELS.band, { band: p.data.band }) : "";
          return echarts.format.encodeHTML(p.name) + "<br>" + echarts.format.encodeHTML(data.indicator.name) +
            echarts.format.encodeHTML(LABELS.colon + withUnit(v, data.indicator.unit) + band);
        }
      },
      series: [{
        type: "map", map: name, roam: true, nameProperty: "name",
        label: { show: true, fontSize: 10 },
        data: data.rows.map(function (row) {
          var item = { name: row.name, value: row.value, band: row.band || "" };
          if (banded) item.itemStyle = { areaColor: COLOURS[row.colour] || "#eaecf0" };
          return item;
        })
      }]
    };
    if (!banded) {
      option.visualMap = {
        min: data.min, max: data.max === data.min ? data.min + 1 : data.max, calculable: true,
        left: "left", bottom: 10, inRange: { color: [low, "#fdb022", high] }, text: ["", ""]
      };
    }
    echarts.init(box).setOption(option);
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

  // The period list belongs to the period type shown: choosing another type lists that type's periods
  // (data.periods, from the selector) with its default chosen, and says which type the list is for
  // (period_for), so a year's start date is never read as January.
  function periodFollowsType(periods) {
    var type = document.querySelector("select[name=period_type]");
    if (!type || !type.form || !periods) return;
    var period = type.form.querySelector("select[name=period]");
    var shownFor = type.form.querySelector("input[name=period_for]");
    type.addEventListener("change", function () {
      var menu = periods[type.value];
      if (!period || !menu) return;
      while (period.options.length) period.remove(0);
      menu.options.forEach(function (option) {
        period.add(new Option(option[1], option[0], false, option[0] === menu.default));
      });
      period.value = menu.default;
      if (shownFor) shownFor.value = type.value;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    consortiumResetsUnit();
    var script = document.getElementById("cockpit-data");
    if (!script) return;
    var data = JSON.parse(script.textContent);
    if (data.labels) LABELS = data.labels;
    periodFollowsType(data.periods);
    if (typeof echarts === "undefined") return;
    trends(document.querySelector("[data-cockpit-trends]"), data.trend);
    map(document.querySelector("[data-cockpit-map]"), data.map);
    bar(document.querySelector("[data-cockpit-bar]"), data.bar);
    window.addEventListener("resize", function () {
      document.querySelectorAll("[_echarts_instance_]").forEach(function (el) { echarts.getInstanceByDom(el).resize(); });
    });
  });
})();
