// Charts of the quality dashboard and the quality index, drawn with the vendored
// ECharts from the page's json_script data ("quality-dashboard-data" or
// "quality-index-data") and translated names ("quality-dashboard-names").
(function () {
  "use strict";

  var COLORS = ["#2563eb", "#dc2626", "#0891b2", "#ca8a04", "#16a34a", "#7c3aed", "#db2777"];

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function month(text) {
    return text.slice(0, 7);
  }

  function hours(duration) {
    return duration ? Math.round(duration.minutes / 6) / 10 : null;
  }

  function dashboardOptions(data, names) {
    var months = data.trend.map(function (p) { return month(p.month); });
    var types = Object.keys(names.types);
    var axis = { type: "category", data: months };
    var legend = { bottom: 0, type: "scroll" };
    var grid = { left: 10, right: 20, top: 20, bottom: 40, containLabel: true };
    return {
      volume: {
        color: COLORS,
        tooltip: { trigger: "axis" },
        legend: legend,
        grid: grid,
        xAxis: axis,
        yAxis: { type: "value", minInterval: 1 },
        series: types.map(function (type) {
          return {
            name: names.types[type],
            type: "bar",
            stack: "orders",
            data: data.trend.map(function (p) { return p.created_by_type[type] || 0; }),
          };
        }),
      },
      durations: {
        color: ["#2563eb", "#f59e0b"],
        tooltip: { trigger: "axis" },
        legend: legend,
        grid: grid,
        xAxis: { type: "category", data: data.clocks.map(function (c) { return c.label; }) },
        yAxis: { type: "value", name: names.hours },
        series: [
          { name: names.median, type: "bar", data: data.clocks.map(function (c) { return hours(c.median); }) },
          { name: names.p90, type: "bar", data: data.clocks.map(function (c) { return hours(c.p90); }) },
        ],
      },
      sla: {
        color: ["#16a34a", "#2563eb"],
        tooltip: { trigger: "axis" },
        legend: legend,
        grid: grid,
        xAxis: axis,
        yAxis: { type: "value", min: 0, max: 100 },
        series: [
          { name: names.sla, type: "line", connectNulls: true, data: data.trend.map(function (p) { return p.resolution_sla_rate; }) },
          { name: names.ftf, type: "line", connectNulls: true, data: data.trend.map(function (p) { return p.first_time_fix_rate; }) },
        ],
      },
      satisfaction: {
        color: ["#7c3aed"],
        tooltip: { trigger: "axis" },
        legend: legend,
        grid: grid,
        xAxis: axis,
        yAxis: { type: "value", min: 1, max: 5 },
        series: [
          { name: names.satisfaction, type: "line", connectNulls: true, data: data.trend.map(function (p) { return p.satisfaction; }) },
        ],
      },
      backlog: {
        color: ["#ca8a04"],
        tooltip: { trigger: "axis" },
        grid: { left: 10, right: 20, top: 20, bottom: 10, containLabel: true },
        xAxis: { type: "category", data: data.backlog.map(function (b) { return b.label; }) },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ name: names.orders, type: "bar", data: data.backlog.map(function (b) { return b.orders; }) }],
      },
      channels: pie(names.orders, data.by_channel),
      causes: pie(names.complaints, data.complaints.by_root_cause),
    };
  }

  function pie(name, rows) {
    return {
      color: COLORS,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { orient: "vertical", right: 0, top: "middle", type: "scroll" },
      series: [{
        name: name,
        type: "pie",
        radius: ["35%", "70%"],
        center: ["35%", "50%"],
        label: { show: false },
        data: rows.map(function (r) { return { name: r.label, value: r.created }; }),
      }],
    };
  }

  function indexOptions(data, names) {
    var dims = data.dimensions;
    var labels = dims.map(function (d) { return d.label; });
    return {
      radar: {
        color: ["#2563eb"],
        tooltip: {},
        radar: {
          indicator: dims.map(function (d) { return { name: d.label + " " + d.weight_percent + "%", max: 100 }; }),
          radius: "62%",
          axisName: { color: "#334155" },
        },
        series: [{
          type: "radar",
          areaStyle: { opacity: 0.15 },
          data: [{ name: names.score, value: dims.map(function (d) { return d.score; }) }],
        }],
      },
      sources: {
        color: ["#2563eb", "#16a34a", "#dc2626"],
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { bottom: 0 },
        grid: { left: 10, right: 20, top: 10, bottom: 40, containLabel: true },
        xAxis: { type: "value", min: function (v) { return Math.min(0, Math.floor(v.min / 10) * 10); }, max: 100 },
        yAxis: { type: "category", inverse: true, data: labels, axisLabel: { width: 150, overflow: "truncate" } },
        series: [
          { name: names.ratings, type: "bar", data: dims.map(function (d) { return d.rating_score; }) },
          { name: names.surveys, type: "bar", data: dims.map(function (d) { return d.survey_score; }) },
          { name: names.gap, type: "bar", data: dims.map(function (d) { return d.gap_score; }) },
        ],
      },
    };
  }

  function draw() {
    if (!window.echarts) {
      return;
    }
    var names = read("quality-dashboard-names");
    var board = read("quality-dashboard-data");
    var index = read("quality-index-data");
    var options = board ? dashboardOptions(board, names) : index ? indexOptions(index, names) : {};
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (node) {
      var option = options[node.dataset.chart];
      if (!option) {
        return;
      }
      var chart = window.echarts.init(node);
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
