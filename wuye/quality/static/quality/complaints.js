// Complaint analysis charts: series from the page's json_script "complaint-charts",
// drawn with the vendored ECharts (no CDN). Bars (or a line, or a pie) per data-chart.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("complaint-charts");
    if (!source || !window.echarts) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var names = data.names;
    document.querySelectorAll("[data-chart]").forEach(function (node) {
      var series = data[node.dataset.chart];
      var kind = node.dataset.kind || "bar";
      var chart = window.echarts.init(node);
      var option;
      if (kind === "pie") {
        option = {
          tooltip: { trigger: "item" },
          legend: { bottom: 0, type: "scroll" },
          series: [{
            type: "pie",
            radius: ["35%", "65%"],
            center: ["50%", "45%"],
            name: names.complaints,
            label: { formatter: "{b}: {c}" },
            data: series.labels.map(function (label, i) {
              return { name: label, value: series.complaints[i] };
            }),
          }],
        };
      } else if (kind === "line") {
        option = {
          tooltip: { trigger: "axis" },
          legend: { data: [names.complaints, names.resolved], bottom: 0 },
          grid: { left: 40, right: 20, top: 20, bottom: 50 },
          xAxis: { type: "category", data: series.labels },
          yAxis: { type: "value", minInterval: 1 },
          series: [
            { name: names.complaints, type: "line", data: series.complaints },
            { name: names.resolved, type: "line", data: series.resolved },
          ],
        };
      } else {
        // Horizontal bars, most complaints on top: long Chinese labels stay readable.
        option = {
          tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
          legend: { data: [names.complaints, names.resolved], bottom: 0 },
          grid: { left: 10, right: 30, top: 10, bottom: 40, containLabel: true },
          xAxis: { type: "value", minInterval: 1 },
          yAxis: {
            type: "category",
            inverse: true,
            data: series.labels,
            axisLabel: { width: 140, overflow: "truncate" },
          },
          series: [
            { name: names.complaints, type: "bar", data: series.complaints, barMaxWidth: 24 },
            { name: names.resolved, type: "bar", data: series.resolved, barMaxWidth: 24 },
          ],
        };
      }
      chart.setOption(option);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
