// A map of one market drawn locally in SVG from GET /markets: no tiles, nothing from the
// internet. Shows the bounds with a 1 km grid, stations, each station's service circle, and
// optionally waiting workers, open jobs and a picked place (tap, click or arrow keys).

import { t, addStrings, onLangChange } from "./i18n.js";
import { reachKm, distanceKm } from "./client.js";

addStrings({
  zh: {
    "map.label": "{market}地图：{n} 个服务站，服务圈半径约 {km} 公里",
    "map.pick.help": "点地图选工作地点，或用方向键移动、回车确定",
    "map.north": "北",
    "map.legend.station": "服务站",
    "map.legend.circle": "服务圈（约 {min} 分钟路程）",
    "map.legend.worker": "等待的工人",
    "map.legend.job": "招人的工作",
    "map.legend.pick": "选中的地点",
    "map.scale": "1 公里",
  },
  en: {
    "map.label": "Map of {market}: {n} stations, service circle about {km} km",
    "map.pick.help": "Tap the map to place the job, or move with the arrow keys and press Enter",
    "map.north": "N",
    "map.legend.station": "Station",
    "map.legend.circle": "Service circle (about {min} min away)",
    "map.legend.worker": "Waiting worker",
    "map.legend.job": "Job hiring",
    "map.legend.pick": "Chosen place",
    "map.scale": "1 km",
  },
});

const NS = "http://www.w3.org/2000/svg";
const KM_PER_DEG_LAT = 111.32;
const WIDTH = 1000;
const KEY_STEP_KM = 0.1;

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

export class MarketMap {
  /**
   * container: an element to draw into. options: pickable (bool), onPick({lat, lon, station,
   * distanceKm, inCircle}), circles (draw service circles, default true), legend (default true).
   */
  constructor(container, market, options = {}) {
    this.container = container;
    this.market = market;
    // markerScale enlarges markers and labels where the map is drawn small (a phone).
    this.options = { circles: true, legend: true, markerScale: 1, ...options };
    this.reach = reachKm(market.rules);
    const mb = market.bounds;
    this.kmPerDegLon = KM_PER_DEG_LAT * Math.cos(((mb.north + mb.south) / 2) * Math.PI / 180);
    this.view = this._viewBounds();
    const b = this.view;
    this.widthKm = (b.east - b.west) * this.kmPerDegLon;
    this.heightKm = (b.north - b.south) * KM_PER_DEG_LAT;
    this.height = Math.round(WIDTH * this.heightKm / this.widthKm);
    this.pxPerKm = WIDTH / this.widthKm;
    this.pick = null;
    this.workers = [];
    this.jobs = [];
    this._build();
    onLangChange(() => this._build());
  }

  /**
   * The part of the market worth drawing: the stations and their service circles with a
   * margin, inside the market's bounds. A whole 15 km town squeezes the stations together.
   */
  _viewBounds() {
    const mb = this.market.bounds;
    const st = this.market.stations;
    if (!st.length) return { ...mb };
    const marginKm = (this.reach ?? 2) + 0.8;
    const dLat = marginKm / KM_PER_DEG_LAT;
    const dLon = marginKm / this.kmPerDegLon;
    return {
      south: Math.max(mb.south, Math.min(...st.map((x) => x.lat)) - dLat),
      north: Math.min(mb.north, Math.max(...st.map((x) => x.lat)) + dLat),
      west: Math.max(mb.west, Math.min(...st.map((x) => x.lon)) - dLon),
      east: Math.min(mb.east, Math.max(...st.map((x) => x.lon)) + dLon),
    };
  }

  project(lat, lon) {
    const b = this.view;
    return {
      x: ((lon - b.west) / (b.east - b.west)) * WIDTH,
      y: ((b.north - lat) / (b.north - b.south)) * this.height,
    };
  }

  unproject(x, y) {
    const b = this.view;
    return {
      lat: b.north - (y / this.height) * (b.north - b.south),
      lon: b.west + (x / WIDTH) * (b.east - b.west),
    };
  }

  setWorkers(workers) { this.workers = workers || []; this._drawDynamic(); }
  setJobs(jobs) { this.jobs = jobs || []; this._drawDynamic(); }

  setPick(lat, lon, { notify = true } = {}) {
    const b = this.market.bounds;
    lat = Math.min(b.north, Math.max(b.south, lat));
    lon = Math.min(b.east, Math.max(b.west, lon));
    this.pick = { lat, lon };
    this._drawDynamic();
    if (notify && this.options.onPick) this.options.onPick(this.describe(lat, lon));
  }

  clearPick() { this.pick = null; this._drawDynamic(); }

  /** The nearest station and whether the place is inside any station's service circle. */
  describe(lat, lon) {
    let best = null;
    for (const st of this.market.stations) {
      const d = distanceKm({ lat, lon }, st);
      if (!best || d < best.distanceKm) best = { station: st, distanceKm: d };
    }
    return {
      lat, lon,
      station: best ? best.station : null,
      distanceKm: best ? best.distanceKm : null,
      inCircle: best && this.reach !== null ? best.distanceKm <= this.reach : true,
    };
  }

  _build() {
    const m = this.market;
    this.container.replaceChildren();
    this.container.classList.add("market-map");
    const reachText = this.reach === null ? "—" : this.reach.toFixed(1);
    const svg = s("svg", {
      viewBox: `0 0 ${WIDTH} ${this.height}`,
      role: this.options.pickable ? "application" : "img",
      "aria-label": t("map.label", { market: m.name, n: m.stations.length, km: reachText })
        + (this.options.pickable ? `. ${t("map.pick.help")}` : ""),
      class: "map-svg",
      preserveAspectRatio: "xMidYMid meet",
    });
    if (this.options.pickable) svg.setAttribute("tabindex", "0");
    svg.append(s("rect", { x: 0, y: 0, width: WIDTH, height: this.height, class: "map-bg" }));

    const grid = s("g", { class: "map-grid", "aria-hidden": "true" });
    for (let km = 1; km < this.widthKm; km += 1) {
      const x = km * this.pxPerKm;
      grid.append(s("line", { x1: x, y1: 0, x2: x, y2: this.height }));
    }
    for (let km = 1; km < this.heightKm; km += 1) {
      const y = this.height - km * this.pxPerKm;
      grid.append(s("line", { x1: 0, y1: y, x2: WIDTH, y2: y }));
    }
    svg.append(grid);

    if (this.options.circles && this.reach !== null) {
      const circles = s("g", { class: "map-circles", "aria-hidden": "true" });
      for (const st of m.stations) {
        const p = this.project(st.lat, st.lon);
        circles.append(s("circle", { cx: p.x, cy: p.y, r: this.reach * this.pxPerKm }));
      }
      svg.append(circles);
    }

    const stations = s("g", { class: "map-stations" });
    for (const st of m.stations) {
      const p = this.project(st.lat, st.lon);
      const k = this.options.markerScale;
      const g = s("g", { class: "map-station", "data-station": st.id, transform: `translate(${p.x} ${p.y}) scale(${k})` });
      g.append(s("title", {}, st.name));
      g.append(s("rect", { x: -13, y: -13, width: 26, height: 26, rx: 3 }));
      g.append(s("text", { x: 0, y: 7, "text-anchor": "middle", class: "map-station-glyph" }, "站"));
      // Labels near the right edge go to the left of their marker so they stay on the map.
      const right = p.x < WIDTH - 220 * k;
      g.append(s("text", {
        x: right ? 20 : -20, y: -18, class: "map-label", "text-anchor": right ? "start" : "end",
      }, st.name.replace(/[（(].*[)）]$/, "")));
      stations.append(g);
    }
    svg.append(stations);

    // Workers, jobs and the pick sit above the stations: a job at a station must show.
    this.dynamic = s("g", { class: "map-dynamic" });
    svg.append(this.dynamic);

    // Scale bar and north arrow, so the drawing reads as a map without tiles.
    const deco = s("g", { class: "map-deco", "aria-hidden": "true" });
    const sx = 24;
    const sy = this.height - 28;
    deco.append(s("rect", { x: sx - 8, y: sy - 30, width: this.pxPerKm + 16, height: 44, class: "map-deco-bg" }));
    deco.append(s("path", { d: `M${sx} ${sy - 8} V${sy} H${sx + this.pxPerKm} V${sy - 8}`, class: "map-scale" }));
    deco.append(s("text", { x: sx, y: sy - 12, class: "map-label" }, t("map.scale")));
    const nx = WIDTH - 40;
    deco.append(s("path", { d: `M${nx} 18 L${nx + 14} 54 L${nx} 46 L${nx - 14} 54 Z`, class: "map-north" }));
    deco.append(s("text", { x: nx, y: 78, "text-anchor": "middle", class: "map-label" }, t("map.north")));
    svg.append(deco);

    this.svg = svg;
    this.container.append(svg);
    if (this.options.pickable) this._wirePicking();
    if (this.options.legend) this.container.append(this._legend());
    this._drawDynamic();
  }

  _legend() {
    const items = [["station", "map.legend.station"]];
    if (this.options.circles && this.reach !== null) items.push(["circle", "map.legend.circle"]);
    if (this.options.showWorkers) items.push(["worker", "map.legend.worker"]);
    if (this.options.showJobs) items.push(["job", "map.legend.job"]);
    if (this.options.pickable) items.push(["pick", "map.legend.pick"]);
    const list = document.createElement("ul");
    list.className = "map-legend";
    const minutes = this.market.rules && this.market.rules.max_travel_minutes;
    for (const [kind, key] of items) {
      const li = document.createElement("li");
      const sw = s("svg", { viewBox: "-12 -12 24 24", width: 22, height: 22, "aria-hidden": "true", class: `legend-${kind}` });
      sw.append(this._glyph(kind));
      li.append(sw, document.createTextNode(` ${t(key, { min: minutes ?? "—" })}`));
      list.append(li);
    }
    return list;
  }

  _glyph(kind) {
    switch (kind) {
      case "station": return s("rect", { x: -9, y: -9, width: 18, height: 18, rx: 2, class: "map-station-shape" });
      case "circle": return s("circle", { r: 9, class: "map-circle-shape" });
      case "worker": return s("circle", { r: 6, class: "map-worker" });
      case "job": return s("path", { d: "M0 -10 L10 0 L0 10 L-10 0 Z", class: "map-job" });
      default: return s("path", { d: "M0 10 L-8 -2 A9 9 0 1 1 8 -2 Z", class: "map-pick" });
    }
  }

  _drawDynamic() {
    if (!this.dynamic) return;
    this.dynamic.replaceChildren();
    for (const w of this.workers) {
      if (w.lat == null || w.lon == null) continue;
      const p = this.project(w.lat, w.lon);
      const c = s("circle", { cx: p.x, cy: p.y, r: 7 * this.options.markerScale, class: `map-worker state-${w.state || "available"}` });
      this.dynamic.append(c);
    }
    for (const j of this.jobs) {
      if (j.lat == null || j.lon == null) continue;
      const p = this.project(j.lat, j.lon);
      const g = s("g", { class: "map-job-g", transform: `translate(${p.x} ${p.y}) scale(${this.options.markerScale})` });
      g.append(s("title", {}, j.title || ""));
      g.append(s("path", { d: "M0 -13 L13 0 L0 13 L-13 0 Z", class: "map-job" }));
      const open = (j.headcount ?? 0) - (j.accepted ?? 0);
      if (open > 0) g.append(s("text", { x: 0, y: 5, "text-anchor": "middle", class: "map-job-n" }, String(open)));
      this.dynamic.append(g);
    }
    if (this.pick) {
      const p = this.project(this.pick.lat, this.pick.lon);
      const k = this.options.markerScale;
      const g = s("g", { class: "map-pick-g", transform: `translate(${p.x} ${p.y}) scale(${k})` });
      if (this.reach !== null && this.options.pickCircle) {
        g.append(s("circle", { r: (this.reach * this.pxPerKm) / k, class: "map-pick-reach" }));
      }
      g.append(s("path", { d: "M0 0 L-16 -26 A19 19 0 1 1 16 -26 Z", class: "map-pick" }));
      g.append(s("circle", { cx: 0, cy: -36, r: 6, class: "map-pick-dot" }));
      this.dynamic.append(g);
    }
  }

  _wirePicking() {
    const svg = this.svg;
    svg.addEventListener("click", (ev) => {
      const ctm = svg.getScreenCTM();
      if (!ctm) return;
      const pt = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(ctm.inverse());
      const station = ev.target.closest && ev.target.closest(".map-station");
      if (station) {
        const st = this.market.stations.find((x) => x.id === station.dataset.station);
        if (st) { this.setPick(st.lat, st.lon); return; }
      }
      const ll = this.unproject(pt.x, pt.y);
      this.setPick(ll.lat, ll.lon);
    });
    svg.addEventListener("keydown", (ev) => {
      const keys = { ArrowUp: [1, 0], ArrowDown: [-1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (ev.key in keys) {
        ev.preventDefault();
        const start = this.pick || this.market.centre;
        const [dn, de] = keys[ev.key];
        this.setPick(
          start.lat + (dn * KEY_STEP_KM) / KM_PER_DEG_LAT,
          start.lon + (de * KEY_STEP_KM) / this.kmPerDegLon,
        );
      } else if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        const start = this.pick || this.market.centre;
        this.setPick(start.lat, start.lon);
      }
    });
  }
}
