// The dashboards' charts, drawn by plotly.js (served from this server) from the figures the page embeds as JSON
// (#chart-data): the period labels and number separators of the reader's language, and each chart's series.
"use strict";

const AXIS_FORMATS = { count: ",d", hours: ",.1f", percent: ".1f", money: ",.2f" };
const TICK_FORMATS = { count: ",d", hours: ",~r", percent: "~r", money: ",~r" };

function traceOf(trace, labels, formats) {
  const right = trace.axis === "right";
  const format = right ? formats.right : formats.left;
  return {
    type: trace.kind === "bar" ? "bar" : "scatter",
    mode: "lines+markers",
    name: trace.name,
    x: labels,
    y: trace.values,
    yaxis: right ? "y2" : "y",
    connectgaps: false,
    hovertemplate: `%{y:${AXIS_FORMATS[format] || ","}}<extra>${trace.name}</extra>`,
  };
}

function draw(element, chart, data) {
  const layout = {
    separators: data.separators,
    margin: { l: 56, r: chart.right ? 64 : 16, t: 8, b: 48 },
    legend: { orientation: "h", y: -0.2 },
    font: { family: "system-ui, sans-serif", size: 12 },
    xaxis: { type: "category", automargin: true },
    yaxis: { title: { text: chart.left }, rangemode: "tozero", tickformat: TICK_FORMATS[chart.formats.left] },
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    bargap: 0.3,
  };
  if (chart.right) {
    layout.yaxis2 = {
      title: { text: chart.right },
      overlaying: "y",
      side: "right",
      rangemode: "tozero",
      showgrid: false,
      tickmode: "auto",
      tickformat: TICK_FORMATS[chart.formats.right],
    };
  }
  const traces = chart.traces.map((trace) => traceOf(trace, data.labels, chart.formats));
  window.Plotly.newPlot(element, traces, layout, { displayModeBar: false, responsive: true });
}

document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("chart-data");
  if (!source || !window.Plotly) return;
  const data = JSON.parse(source.textContent);
  for (const chart of data.charts) {
    const element = document.getElementById(`chart-${chart.name}`);
    if (element) draw(element, chart, data);
  }
});
