// Small inline-SVG charts for the dashboard: lines over the day and bars per hour. Series
// differ by dash pattern and carry their own label at the line's end, not by colour alone.

import { fmtClock, fmtNumber } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function niceMax(v) {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Lines over time. series: [{label, points: [[ms, value], ...]}]; from/to: ms of the x range.
 * label: the chart's accessible name, with a summary of the latest values.
 */
export function lineChart(container, { series, from, to, label, width = 600, height = 200 }) {
  const pad = { l: 36, r: 110, t: 10, b: 24 };
  const w = width - pad.l - pad.r;
  const hh = height - pad.t - pad.b;
  const maxV = niceMax(Math.max(1, ...series.flatMap((x) => x.points.map((p) => p[1] || 0))));
  const x = (ms) => pad.l + ((ms - from) / Math.max(1, to - from)) * w;
  const y = (v) => pad.t + hh - (v / maxV) * hh;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  for (let i = 0; i <= 4; i += 1) {
    const v = (maxV / 4) * i;
    svg.append(s("line", { x1: pad.l, x2: pad.l + w, y1: y(v), y2: y(v), class: "gridline" }));
    svg.append(s("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, fmtNumber(v)));
  }
  const hourMs = 3600000;
  const step = (to - from) > 12 * hourMs ? 3 * hourMs : hourMs;
  for (let tick = Math.ceil(from / step) * step; tick <= to; tick += step) {
    svg.append(s("text", { x: x(tick), y: height - 6, "text-anchor": "middle" }, fmtClock(new Date(tick))));
  }
  svg.append(s("line", { x1: pad.l, x2: pad.l, y1: pad.t, y2: pad.t + hh, class: "axis" }));
  svg.append(s("line", { x1: pad.l, x2: pad.l + w, y1: pad.t + hh, y2: pad.t + hh, class: "axis" }));
  const labels = [];
  series.forEach((ser, i) => {
    const pts = ser.points.filter((p) => p[1] !== null && p[1] !== undefined);
    if (!pts.length) return;
    const d = pts.map((p, k) => `${k ? "L" : "M"}${x(p[0]).toFixed(1)} ${y(p[1]).toFixed(1)}`).join(" ");
    svg.append(s("path", { d, class: `s${i}` }));
    const last = pts[pts.length - 1];
    svg.append(s("circle", { cx: x(last[0]), cy: y(last[1]), r: 3.5, class: `s${i}` }));
    labels.push({ x: x(last[0]) + 8, y: y(last[1]) + 4, text: `${ser.label} ${fmtNumber(last[1])}`, i });
  });
  // End labels never overlap: push them apart vertically, keeping their order.
  labels.sort((a, b) => a.y - b.y);
  for (let k = 1; k < labels.length; k += 1) labels[k].y = Math.max(labels[k].y, labels[k - 1].y + 14);
  const overflow = labels.length ? labels[labels.length - 1].y - (pad.t + hh + 4) : 0;
  if (overflow > 0) for (const l of labels) l.y -= overflow;
  for (const l of labels) svg.append(s("text", { x: l.x, y: l.y, class: `series-label s${l.i}-text` }, l.text));
  container.replaceChildren(svg);
}

/** Vertical bars, e.g. fills per hour. bars: [{label, value}]. */
export function barChart(container, { bars, label, width = 600, height = 150 }) {
  const pad = { l: 30, r: 8, t: 14, b: 22 };
  const w = width - pad.l - pad.r;
  const hh = height - pad.t - pad.b;
  const maxV = niceMax(Math.max(1, ...bars.map((b) => b.value)));
  const bw = w / Math.max(1, bars.length);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  svg.append(s("line", { x1: pad.l, x2: pad.l + w, y1: pad.t + hh, y2: pad.t + hh, class: "axis" }));
  svg.append(s("text", { x: pad.l - 4, y: pad.t + 4, "text-anchor": "end" }, fmtNumber(maxV)));
  bars.forEach((b, i) => {
    const bh = (b.value / maxV) * hh;
    const bx = pad.l + i * bw + bw * 0.15;
    svg.append(s("rect", { x: bx, y: pad.t + hh - bh, width: bw * 0.7, height: bh, class: "bar" }));
    if (b.value) svg.append(s("text", { x: bx + bw * 0.35, y: pad.t + hh - bh - 3, "text-anchor": "middle" }, fmtNumber(b.value)));
    if (i % 2 === 0) svg.append(s("text", { x: bx + bw * 0.35, y: height - 6, "text-anchor": "middle" }, b.label));
  });
  container.replaceChildren(svg);
}

/** A sparkline of recent values (round timings). */
export function sparkline(container, { values, label, width = 600, height = 60 }) {
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  if (values.length > 1) {
    const maxV = niceMax(Math.max(1, ...values));
    const x = (i) => 4 + (i / (values.length - 1)) * (width - 8);
    const y = (v) => height - 4 - (v / maxV) * (height - 14);
    svg.append(s("path", { d: values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)}`).join(" "), class: "s0" }));
    svg.append(s("text", { x: 6, y: 11 }, `${fmtNumber(maxV)} ms`));
  }
  container.replaceChildren(svg);
}

/**
 * Two bars side by side per row, e.g. current rules against a proposed change.
 * rows: [{label, a, b}]; legend: [label of a, label of b]; format: value -> text.
 * Bars differ by fill and by pattern of position (a left, b right) and carry their values.
 */
export function pairBars(container, { rows, legend, label, format = fmtNumber, width = 420, height = 170 }) {
  const pad = { l: 8, r: 8, t: 22, b: 22 };
  const w = width - pad.l - pad.r;
  const hh = height - pad.t - pad.b;
  const maxV = Math.max(1e-9, ...rows.flatMap((r) => [r.a || 0, r.b || 0]));
  const slot = w / Math.max(1, rows.length);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  svg.append(s("text", { x: pad.l, y: 12, class: "legend pair-a-text" }, `■ ${legend[0]}`));
  svg.append(s("text", { x: pad.l + w / 2, y: 12, class: "legend pair-b-text" }, `■ ${legend[1]}`));
  svg.append(s("line", { x1: pad.l, x2: pad.l + w, y1: pad.t + hh, y2: pad.t + hh, class: "axis" }));
  rows.forEach((r, i) => {
    const bw = slot * 0.3;
    [["a", r.a, slot * 0.15], ["b", r.b, slot * 0.55]].forEach(([which, v, off]) => {
      const bh = v === null || v === undefined ? 0 : (v / maxV) * (hh - 14);
      const x = pad.l + i * slot + off;
      svg.append(s("rect", { x, y: pad.t + hh - bh, width: bw, height: bh, class: `pair-${which}` }));
      svg.append(s("text", { x: x + bw / 2, y: pad.t + hh - bh - 3, "text-anchor": "middle", class: `pair-value pair-${which}-value` },
        v === null || v === undefined ? "—" : format(v)));
    });
    if (r.label) svg.append(s("text", { x: pad.l + i * slot + slot / 2, y: height - 6, "text-anchor": "middle" }, r.label));
  });
  container.replaceChildren(svg);
}
