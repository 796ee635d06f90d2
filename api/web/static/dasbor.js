/* Monitoring: draws each chart of the page with the vendored Chart.js from the page's JSON data block
   (#dasbor-data; a data block is not executed, so the Content-Security-Policy allows it).  The tables
   beside the charts hold the same numbers and stay the source of truth: a chart is an image with a
   summary (role="img", aria-label), and nothing here is needed to read the page. */
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("dasbor-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var charts = JSON.parse(source.textContent);
  /* Okabe-Ito colours: told apart with every common colour-vision deficiency. */
  var palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9"];
  var late = "#C0392B";
  var standard = "#6C757D";
  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.color = "#343a40";

  /* A long category label in lines of at most 18 characters (Chart.js draws an array as lines),
     so labels stay level under bars and fit beside them on a phone. */
  function lines(label) {
    var out = [];
    String(label).split(" ").forEach(function (word) {
      var last = out.length - 1;
      if (last >= 0 && (out[last] + " " + word).length <= 18) {
        out[last] += " " + word;
      } else {
        out.push(word);
      }
    });
    return out.length > 1 ? out : label;
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[canvas.getAttribute("data-chart")];
    if (!spec) {
      return;
    }
    var datasets = spec.datasets.map(function (d, i) {
      var colour = d.late ? late : d.standard ? standard : palette[i % palette.length];
      var out = { label: d.label, data: d.data, backgroundColor: colour, borderColor: colour, borderWidth: 1 };
      if (d.urgent_first) {
        out.backgroundColor = d.data.map(function (_, j) { return j === 0 ? late : palette[j % palette.length]; });
        out.borderColor = out.backgroundColor;
      }
      return out;
    });
    var valueAxis = {
      beginAtZero: true,
      stacked: !!spec.stacked,
      ticks: spec.unit ? {} : { precision: 0 },
      title: spec.unit ? { display: true, text: spec.unit } : { display: false }
    };
    var categoryAxis = { stacked: !!spec.stacked, ticks: { autoSkip: false } };
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels.map(lines), datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: reduce ? false : { duration: 300 },
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
        scales: spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis }
      }
    });
  });
});
