/* One household's care score over time (quality/care/house.html): the data comes from
   the json_script "care-data", the alert line from the chart's data-threshold. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var box = document.getElementById("care-chart");
  var source = document.getElementById("care-data");
  if (!box || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(box);
  chart.setOption({
    grid: {left: 36, right: 16, top: 16, bottom: 28},
    tooltip: {trigger: "axis"},
    xAxis: {type: "category", data: data.days},
    yAxis: {type: "value", min: 0, max: 100},
    series: [{type: "line", data: data.scores, smooth: true, areaStyle: {opacity: 0.15},
              markLine: {silent: true, symbol: "none", lineStyle: {type: "dashed"},
                         data: [{yAxis: Number(box.dataset.threshold)}]}}]
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
