// slod's dashboard: an overview of every objective (sortable, filterable, with a burn-down
// sparkline each and the firing alerts on top), a page per objective and a page per system.
// It reads the public API only, and refetches what is on screen whenever a signal arrives.
// Charts are drawn by uPlot (vendored under /assets/vendor, MIT licence).
"use strict";

// The names of the signals that change what the dashboard shows, filled in from the server's
// signal catalogue when this file is served.
const SIGNALS = /*SIGNALS*/[];
// The signal that carries a system's new health, and the one that says "refetch everything".
const HEALTH_SIGNAL = /*HEALTH_SIGNAL*/"";
const RESYNC_SIGNAL = /*RESYNC_SIGNAL*/"";
// Burn-rate look-back windows, shortest first, as the status names them (engine.md).
const BURN_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];
const TIER_ORDER = { breaching: 0, degraded: 1, at_risk: 2, healthy: 3 };

// ---- The API, with the read token when the server asks for one ----------------------------

const TOKEN_KEY = "slod.readToken";
let token = localStorage.getItem(TOKEN_KEY);

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch("/api/v1" + path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    askForToken(token ? "That token was refused; paste another." : null);
    throw new Unauthorized();
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

const enc = encodeURIComponent;

function askForToken(problem) {
  const form = document.getElementById("token");
  form.hidden = false;
  const error = document.getElementById("token-error");
  error.hidden = !problem;
  error.textContent = problem || "";
  setLive("needs a read token", false);
  document.getElementById("token-input").focus();
}

document.getElementById("token").addEventListener("submit", event => {
  event.preventDefault();
  token = document.getElementById("token-input").value.trim();
  localStorage.setItem(TOKEN_KEY, token);
  document.getElementById("token").hidden = true;
  connect();
  render();
});

// ---- Small DOM and number helpers ----------------------------------------------------------

// el("a", { href: "#/" }, "text", child, ...): an element with attributes and children.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const pct = v => (Math.round(v * 100) / 100).toFixed(2) + " %";
// Availability with one decimal more than the target has (at least two), rounded down, so
// 99.9851 % never reads as a 99.99 % target met.
function availability(v, target) {
  const digits = Math.max(2, (String(target).split(".")[1] || "").length + 1);
  const scale = 10 ** digits;
  return (Math.floor(v * scale) / scale).toFixed(digits) + " %";
}
const rate = v => (v === null || v === undefined ? "–" : v.toFixed(2) + "×");
const words = s => s.replaceAll("_", " ");
const when = t => new Date(t).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const badge = (status, text) => el("span", { class: "badge " + status }, words(text || status));

function minutes(m) {
  if (m > 0 && m < 1 / 60) return "<1 s";
  if (m < 1) return Math.round(m * 60) + " s";
  if (m < 120) return (Math.round(m * 10) / 10) + " min";
  if (m < 2880) return (Math.round(m / 6) / 10) + " h";
  return (Math.round(m / 144) / 10) + " d";
}

// The budget left as a bar, coloured by the objective's own thresholds (percent of the budget
// consumed at which it warns and at which it is critical).
function budgetBar(left, thresholds) {
  const clamped = Math.max(0, Math.min(100, left));
  const consumed = 100 - clamped;
  const colour = consumed < thresholds.warningPercent ? "var(--ok)" : consumed < thresholds.criticalPercent ? "var(--warn)" : "var(--bad)";
  return el("div", { class: "bar", role: "img", "aria-label": `${pct(left)} of the error budget left` },
    el("div", { style: `width:${clamped}%;background:${colour}` }));
}

const cssVar = name => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const objectiveLabel = o => o.name || "objective " + o.id.slice(0, 8);
const windowLabel = o => o.windowKind === "rolling" ? `${o.windowDays} d` : `this ${o.windowKind}`;

// ---- Charts ---------------------------------------------------------------------------------

// Every chart on screen, resized with its container and destroyed when it leaves the page.
const charts = new Set();
const resizer = new ResizeObserver(entries => {
  for (const entry of entries) {
    const chart = entry.target.chart;
    if (chart) chart.setSize({ width: Math.floor(entry.contentRect.width), height: chart.height });
  }
});

function forgetDetachedCharts() {
  for (const chart of charts) {
    if (!chart.root.isConnected) {
      resizer.unobserve(chart.box);
      chart.destroy();
      charts.delete(chart);
    }
  }
}

// A line chart in `box`: x in seconds, each series { label, values, colour, dash }; `y` is the
// fixed range of the axis ([0, 100] for percents) or null to fit the data.
function lineChart(box, x, series, { height = 180, y = null, spark = false, unit = "" } = {}) {
  box.replaceChildren();
  const axis = { stroke: cssVar("--dim"), grid: { stroke: cssVar("--line"), width: 1 }, ticks: { show: false } };
  const options = {
    width: Math.max(100, Math.floor(box.clientWidth || box.parentElement.clientWidth || 300)),
    height,
    legend: { show: false },
    cursor: spark ? { show: false } : { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: y ? { range: () => y } : { auto: true } },
    axes: spark ? [{ show: false }, { show: false }] : [axis, Object.assign({}, axis, { size: 72, values: (u, ticks) => ticks.map(t => t + unit) })],
    series: [{}].concat(series.map(s => ({
      label: s.label,
      stroke: s.colour,
      width: spark ? 1.5 : 2,
      dash: s.dash,
      points: { show: false },
    }))),
  };
  const chart = new uPlot(options, [x].concat(series.map(s => s.values)), box);
  chart.box = box;
  box.chart = chart;
  box.classList.add("drawn");
  charts.add(chart);
  resizer.observe(box);
  return chart;
}

function legend(items) {
  return el("div", { class: "legend" }, items.map(([colour, text, dashed]) =>
    el("span", {}, el("i", { style: `background:${dashed ? "transparent" : colour};border-top:2px ${dashed ? "dashed" : "solid"} ${colour}` }), text)));
}

// The ideal burn-down: 100 % at the window's start, 0 % at its end (a budget spent evenly).
function idealLine(history, xs) {
  const start = Date.parse(history.windowStart) / 1000, end = Date.parse(history.windowEnd) / 1000;
  return xs.map(x => (end > start ? Math.max(0, 100 * (1 - (x - start) / (end - start))) : 100));
}

// Burn-down histories of the overview's sparklines, refetched when the status they were
// fetched with moved, or after a minute (the window slides).
const histories = new Map();

async function history(id, remaining, points) {
  const key = id + ":" + points;
  const known = histories.get(key);
  if (known && known.remaining === remaining && Date.now() - known.at < 60000) return known.data;
  const data = await api(`/objectives/${enc(id)}/budget-history?points=${points}`);
  histories.set(key, { remaining, at: Date.now(), data });
  return data;
}

const sparkWatcher = new IntersectionObserver(entries => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    sparkWatcher.unobserve(entry.target);
    drawSpark(entry.target).catch(report);
  }
}, { rootMargin: "300px" });

async function drawSpark(box) {
  const data = await history(box.dataset.objective, Number(box.dataset.remaining), 48);
  if (!box.isConnected) return;
  const xs = data.points.map(p => Date.parse(p.at) / 1000);
  lineChart(box, xs, [
    { label: "ideal", values: idealLine(data, xs), colour: cssVar("--dim"), dash: [3, 3] },
    { label: "budget left", values: data.points.map(p => p.remainingPercent), colour: cssVar("--info") },
  ], { height: 40, y: [-4, 104], spark: true });
  box.setAttribute("aria-label", `error budget over the window: ${pct(data.points[0].remainingPercent)} at its start, ${pct(data.points[data.points.length - 1].remainingPercent)} now`);
}

// ---- Overview ---------------------------------------------------------------------------------

// Every system's health, by id: fetched once, then updated from the health signals.
const healthOf = new Map();

const SORTS = {
  budget: ["remaining budget, least first", (a, b) => a.status.errorBudgetRemainingPercent - b.status.errorBudgetRemainingPercent],
  tier: ["tier, worst first", (a, b) => TIER_ORDER[a.status.tier] - TIER_ORDER[b.status.tier] || a.status.errorBudgetRemainingPercent - b.status.errorBudgetRemainingPercent],
  burn: ["1h burn rate, fastest first", (a, b) => (b.status.burnRates["1h"] ?? -1) - (a.status.burnRates["1h"] ?? -1)],
  name: ["system and name", (a, b) => a.system.name.localeCompare(b.system.name) || objectiveLabel(a.objective).localeCompare(objectiveLabel(b.objective))],
};

const overview = {
  mount(root) {
    const sort = el("select", { id: "sort" }, Object.entries(SORTS).map(([key, [label]]) => el("option", { value: key }, label)));
    const saved = localStorage.getItem("slod.sort");
    sort.value = saved in SORTS ? saved : "budget";
    const filter = el("input", { id: "filter", type: "search", placeholder: "Filter by system, objective or tier", "aria-label": "Filter objectives" });
    filter.value = sessionStorage.getItem("slod.filter") || "";
    sort.addEventListener("change", () => { localStorage.setItem("slod.sort", sort.value); this.draw(); });
    filter.addEventListener("input", () => { sessionStorage.setItem("slod.filter", filter.value); this.draw(); });
    this.parts = {
      alerts: el("section", { id: "alerts", "aria-label": "Firing alerts" }),
      systems: el("nav", { class: "systems", "aria-label": "Systems" }),
      list: el("section", { class: "objectives", "aria-label": "Objectives" }),
      count: el("span", { class: "dim", role: "status" }),
      sort, filter,
    };
    root.replaceChildren(this.parts.alerts,
      el("section", { class: "card" }, el("h2", {}, "Systems"), this.parts.systems),
      el("div", { class: "controls" }, this.parts.filter, el("label", { for: "sort", class: "dim" }, "Sort by"), sort, this.parts.count),
      this.parts.list);
  },

  async refresh() {
    const { systems } = await api("/systems?limit=1000");
    if (view !== overview) return;
    const ids = systems.map(s => s.id);
    // Healths are fetched once per system, then kept current by the health signal's payload.
    const unknown = ids.filter(id => !healthOf.has(id));
    const [bulk, healths, { incidents }, { maintenances }, { alerts }] = await Promise.all([
      ids.length ? api("/objectives/bulk-status", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ systemIds: ids }) }) : { systems: {} },
      Promise.all(unknown.map(id => api(`/systems/${enc(id)}/health`).catch(() => null))),
      api("/incidents?status=open&limit=1000"),
      // Windows from now on (in progress or to come), one shape for every open dashboard.
      api("/maintenances?limit=1000&from=" + enc(new Date(Math.floor(Date.now() / 60000) * 60000).toISOString())),
      api("/alerts?state=firing&limit=1000"),
    ]);
    if (view !== overview) return;
    unknown.forEach((id, i) => healths[i] && healthOf.set(id, healths[i].status));
    const notices = {};
    const add = (ids, notice) => ids.forEach(id => (notices[id] = notices[id] || []).push(notice));
    for (const i of incidents) add(i.systemIds, ["incident", "incident: " + i.title + (i.healthOverride ? " (held unhealthy)" : "")]);
    for (const m of maintenances.filter(m => m.status === "scheduled" || m.status === "in_progress")) {
      add(m.systemIds, ["maintenance", `maintenance: ${m.title} (${m.status === "in_progress" ? "until " + when(m.endAt) : "from " + when(m.startAt)})`]);
    }
    const health = Object.fromEntries(ids.map(id => [id, healthOf.get(id) || "unknown"]));
    this.data = { systems, health, notices, rows: [] };
    for (const system of systems) {
      for (const { objective, status } of bulk.systems[system.id] || []) this.data.rows.push({ system, objective, status });
    }
    alerts.sort((a, b) => (a.severity === "page" ? 0 : 1) - (b.severity === "page" ? 0 : 1));
    this.parts.alerts.replaceChildren(...alerts.map(alertRow));
    // Systems that need a look first; the healthy ones folded away (a thousand chips would
    // bury the objectives on a phone, and cost a thousand Tab presses).
    const chip = s => el("a", { class: "system-chip", href: `#/systems/${enc(s.id)}` }, s.name, badge(health[s.id]));
    const healthy = systems.filter(s => health[s.id] === "healthy");
    const others = systems.filter(s => health[s.id] !== "healthy");
    const fold = this.parts.systems.querySelector("details");
    this.parts.systems.replaceChildren(...(systems.length ? [
      ...others.map(chip),
      healthy.length ? el("details", { open: fold ? fold.open : healthy.length <= 12 },
        el("summary", {}, `${healthy.length} healthy`), el("div", { class: "systems" }, healthy.map(chip))) : null,
    ] : [emptyHelp()]));
    this.draw();
  },

  draw() {
    if (!this.data) return;
    const { rows, health, notices } = this.data;
    const needle = this.parts.filter.value.trim().toLowerCase();
    const shown = rows.filter(r => !needle || [r.system.name, r.system.id, objectiveLabel(r.objective), words(r.status.tier)]
      .some(text => text.toLowerCase().includes(needle)));
    shown.sort(SORTS[this.parts.sort.value][1]);
    const count = `${shown.length} of ${rows.length} objectives`;
    // A live region: rewritten only when it says something new.
    if (this.parts.count.textContent !== count) this.parts.count.textContent = count;
    this.parts.list.replaceChildren(...shown.map(r => objectiveRow(r, health[r.system.id], notices[r.system.id] || [])));
    forgetDetachedCharts();
  },
};

function emptyHelp() {
  return el("p", { class: "empty" }, "No systems yet. Create one: ",
    el("code", {}, `curl -XPOST ${location.origin}/api/v1/systems -H 'Content-Type: application/json' -d '{"id":"web","name":"Web"}'`),
    " (with a manage token when one is configured), or try ", el("code", {}, "slod demo"), ".");
}

// A firing alert, pages first in colour: what holds, and since when.
function alertRow(a) {
  const target = a.objectiveId ? `#/objectives/${enc(a.objectiveId)}` : `#/systems/${enc(a.systemIds[0])}`;
  // Notifications link here: <SLOD_PUBLIC_URL>/#alert-<id>.
  return el("div", { class: "alert " + a.severity, id: "alert-" + a.id },
    el("a", { href: target }, `${a.severity} · ${words(a.kind)} · ${a.summary}`),
    el("span", { class: "numbers" }, "since " + when(a.startsAt)));
}

function objectiveRow({ system, objective, status: s }, health, notices) {
  const spark = el("div", { class: "spark", role: "img", "data-objective": objective.id, "data-remaining": s.errorBudgetRemainingPercent, "aria-label": "error budget over the window" });
  sparkWatcher.observe(spark);
  return el("article", { class: "card objective", "data-objective": objective.id },
    el("div", { class: "name" },
      el("a", { href: `#/objectives/${enc(objective.id)}` }, objectiveLabel(objective)), " ",
      el("div", { class: "numbers" }, el("a", { href: `#/systems/${enc(system.id)}` }, system.name), " ", badge(health || "unknown"),
        ` · ${objective.target} % over ${windowLabel(objective)}`)),
    el("div", {},
      el("div", {}, badge(s.tier), s.alerts !== "none" ? [" ", badge(s.alerts, "alert: " + s.alerts)] : null),
      budgetBar(s.errorBudgetRemainingPercent, objective.burnRateThresholds),
      el("div", { class: "numbers" }, `budget left ${pct(s.errorBudgetRemainingPercent)} (${minutes(s.errorBudgetRemainingMinutes)} of ${minutes(s.errorBudgetTotalMinutes)}) · availability ${availability(s.currentAvailability, objective.target)}`)),
    el("div", {}, spark, el("div", { class: "numbers" }, `burn 1h ${rate(s.burnRates["1h"])} · 1d ${rate(s.burnRates["1d"])}`)),
    notices.length ? el("div", { class: "notices" }, notices.map(([kind, text]) => el("div", { class: "notice " + kind }, text))) : null);
}

// ---- Objective page -------------------------------------------------------------------------

// A detail page starts empty ("Loading…") for its id; its refresh fills it.
function mountDetail(root, id) {
  this.id = id;
  this.root = root;
  root.replaceChildren(el("p", { class: "empty" }, "Loading…"));
}

const objectivePage = {
  mount: mountDetail,

  async refresh() {
    const id = this.id;
    const current = () => view === objectivePage && this.id === id;
    const { objective: o, status: s } = await api(`/objectives/${enc(id)}`);
    const [system, hist, { events }] = await Promise.all([
      api(`/systems/${enc(o.systemId)}`),
      api(`/objectives/${enc(id)}/budget-history?points=120`),
      api(`/objectives/${enc(id)}/downtime?limit=100`),
    ]);
    const { maintenances } = await api(`/maintenances?limit=1000&systemId=${enc(o.systemId)}&from=${enc(hist.windowStart)}`);
    if (!current()) return;
    setCrumbs([system.name, `#/systems/${enc(system.id)}`], [objectiveLabel(o)]);
    const burnDown = el("div", { class: "chart", role: "img", "aria-label": "error budget burn-down over the window, with the ideal line" });
    const availabilityChart = el("div", { class: "chart", role: "img", "aria-label": "availability since the window's start, against the target" });
    const windowStart = Date.parse(hist.windowStart);
    const inWindow = maintenances.filter(m => m.status !== "cancelled" && Date.parse(m.endAt) > windowStart && Date.parse(m.startAt) < Date.now());
    const soFar = hist.points[hist.points.length - 1];
    const exhaustion = s.timeToExhaustionMinutes === null ? "–"
      : s.timeToExhaustionMinutes > s.windowMinutes ? "not within a window" : minutes(s.timeToExhaustionMinutes);
    this.root.replaceChildren(
      el("section", { class: "detail-head" },
        el("h2", {}, objectiveLabel(o), " ", badge(s.tier), s.alerts !== "none" ? [" ", badge(s.alerts, "alert: " + s.alerts)] : null),
        el("span", { class: "dim" }, `${o.target} % of ${windowLabel(o)} on `, el("a", { href: `#/systems/${enc(system.id)}` }, system.name))),
      el("section", { class: "kpis", "aria-label": "Key numbers" },
        kpi("Error budget left", pct(s.errorBudgetRemainingPercent), `${minutes(s.errorBudgetRemainingMinutes)} of ${minutes(s.errorBudgetTotalMinutes)}`),
        kpi("Availability, window so far", availability(soFar.availability, o.target), `target ${o.target} %`),
        kpi("Burn rate, whole window", rate(s.burnRate), "1× spends the budget exactly"),
        kpi("Budget runs out in", exhaustion, "at the last hour's pace"),
        kpi("Counted downtime", minutes(s.errorBudgetConsumedMinutes), attributionText(s))),
      el("div", { class: "grid2" },
        el("section", { class: "card" }, el("h3", {}, "Error budget burn-down"), burnDown,
          legend([[cssVar("--info"), "budget left"], [cssVar("--dim"), "ideal: spent evenly over the window", true]])),
        el("section", { class: "card" }, el("h3", {}, "Availability since the window's start"), availabilityChart,
          legend([[cssVar("--ok"), "availability"], [cssVar("--bad"), "target", true]]))),
      el("div", { class: "grid2" },
        el("section", { class: "card" }, el("h3", {}, "Burn rates against the alert thresholds"), burnRates(s)),
        el("section", { class: "card" }, el("h3", {}, "Multi-window alerts (SRE workbook)"), alertTable(s))),
      el("section", { class: "card" }, el("h3", {}, "Downtime in the window"), downtimeTable(events)),
      el("section", { class: "card" }, el("h3", {}, "Maintenance in the window"), maintenanceTable(inWindow, o.excludeMaintenanceWindows)),
      el("section", { class: "card" }, el("h3", {}, "Settings"), settings(o)));
    const xs = hist.points.map(p => Date.parse(p.at) / 1000);
    lineChart(burnDown, xs, [
      { label: "ideal", values: idealLine(hist, xs), colour: cssVar("--dim"), dash: [4, 4] },
      { label: "budget left", values: hist.points.map(p => p.remainingPercent), colour: cssVar("--info") },
    ], { y: [-2, 102], unit: " %" });
    const lowest = Math.min(o.target, ...hist.points.map(p => p.availability));
    lineChart(availabilityChart, xs, [
      { label: "target", values: xs.map(() => o.target), colour: cssVar("--bad"), dash: [4, 4] },
      { label: "availability", values: hist.points.map(p => p.availability), colour: cssVar("--ok") },
    ], { y: [Math.max(0, lowest - (100 - lowest) * 0.2), 100], unit: " %" });
  },
};

const kpi = (label, value, note) => el("div", { class: "kpi" }, el("span", { class: "dim" }, label), el("b", {}, value), el("span", { class: "numbers" }, note));

function attributionText(s) {
  if (!s.attribution.length) return "none in the window";
  return s.attribution.map(a => `${a.sourceType === "self" ? "own" : a.systemId} ${minutes(a.minutes)}`).join(" · ");
}

// Each look-back's burn rate on a log scale, with the lowest alert factor that reads it.
function burnRates(s) {
  const threshold = {};
  for (const rule of s.alertRules) {
    for (const w of [rule.longWindow, rule.shortWindow]) threshold[w] = Math.min(threshold[w] ?? Infinity, rule.factor);
  }
  const values = BURN_WINDOWS.map(w => s.burnRates[w]);
  const top = Math.max(2, ...values.filter(v => v !== null), ...Object.values(threshold)) * 1.2;
  const scale = v => (Math.log10(1 + v) / Math.log10(1 + top) * 100).toFixed(1) + "%";
  return el("div", { class: "burns" },
    BURN_WINDOWS.map((w, i) => {
      const v = values[i];
      const limit = threshold[w];
      return el("div", { class: "burn" },
        el("span", { class: "num" }, w),
        el("div", { class: "track", role: "img", "aria-label": `${w} burn rate ${rate(v)}` + (limit ? `, alert threshold ${rate(limit)}` : "") },
          el("div", { class: "fill" + (limit && v > limit ? " over" : ""), style: `width:${scale(v || 0)}` }),
          limit ? el("div", { class: "mark", style: `left:${scale(limit)}`, title: `threshold ${rate(limit)}` }) : null),
        el("span", { class: "num" }, rate(v)));
    }),
    el("p", { class: "numbers" }, "Bars on a log scale; a mark is the lowest alert factor that reads that window. 1× spends the budget exactly over the window."));
}

function alertTable(s) {
  return el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "severity"), el("th", {}, "windows"), el("th", {}, "factor"), el("th", {}, "state"), el("th", {}, "long window: own / upstream"))),
    el("tbody", {}, s.alertRules.map(r => el("tr", {},
      el("td", {}, badge(r.severity)),
      el("td", {}, `${r.longWindow} & ${r.shortWindow}`),
      el("td", { class: "num" }, rate(r.factor)),
      el("td", { class: r.firing ? "bad" : "dim" }, r.firing ? "firing" : r.reachable ? "ok" : "cannot fire on this window"),
      el("td", { class: "num" }, `${minutes(r.selfMinutes)} / ${minutes(r.upstreamMinutes)}`)))));
}

function downtimeTable(events) {
  if (!events.length) return el("p", { class: "empty" }, "No downtime in the window.");
  return el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "from"), el("th", {}, "lasted"), el("th", {}, "cause"))),
    el("tbody", {}, events.map(e => el("tr", {},
      el("td", {}, when(e.start)),
      el("td", { class: "num" }, e.end ? minutes(e.durationSeconds / 60) : el("span", { class: "bad" }, "ongoing, " + minutes(e.durationSeconds / 60))),
      el("td", {}, e.attributionType === "self" ? "own" : ["upstream: ", el("a", { href: `#/systems/${enc(e.upstreamSystemId)}` }, e.upstreamSystemId)],
        e.source !== "healthcheck" ? ` (${words(e.source)})` : null)))));
}

function maintenanceTable(windows, excluded) {
  if (!windows.length) return el("p", { class: "empty" }, "No maintenance in the window.");
  return el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "window"), el("th", {}, "when"), el("th", {}, "budget"))),
    el("tbody", {}, windows.map(m => el("tr", {},
      el("td", {}, m.title),
      el("td", {}, `${when(m.startAt)} – ${when(m.endAt)}`),
      el("td", { class: excluded ? "ok" : "dim" }, excluded ? "excluded" : "counted (this objective does not exclude maintenance)")))));
}

function settings(o) {
  const rows = [
    ["id", o.id],
    ["target", `${o.target} %`],
    ["window", o.windowKind === "rolling" ? `rolling, ${o.windowDays} days` : `calendar ${o.windowKind}${o.timeZone ? " in " + o.timeZone : " (UTC)"}`],
    ["reads", o.healthCheckId ? `check ${o.healthCheckId}` : "the system's health"],
    ["upstream outages", o.dependencyExclusion === "strict" ? "count against the budget (strict)" : "do not count (own outages only)"],
    ["counted as own", o.excludedDependencyIds.length ? o.excludedDependencyIds.join(", ") : "–"],
    ["maintenance", o.excludeMaintenanceWindows ? "excluded" : "counted"],
    ["budget thresholds", `warning at ${o.burnRateThresholds.warningPercent} % spent, critical at ${o.burnRateThresholds.criticalPercent} %`],
    ["fast burn", rate(o.burnRateThresholds.fastBurnMultiplier)],
    ["updated", when(o.updatedAt)],
  ];
  return el("dl", { class: "settings" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

// ---- System page ----------------------------------------------------------------------------

const systemPage = {
  mount: mountDetail,

  async refresh() {
    const id = this.id;
    const [system, health, checks, { systems }, objectives, { incidents }, { maintenances }] = await Promise.all([
      api(`/systems/${enc(id)}`),
      api(`/systems/${enc(id)}/health`),
      api(`/systems/${enc(id)}/checks`),
      api("/systems?limit=1000"),
      api(`/systems/${enc(id)}/objectives`),
      api(`/systems/${enc(id)}/incidents`),
      api(`/systems/${enc(id)}/maintenances`),
    ]);
    const downstream = systems.filter(s => s.dependsOn.includes(id));
    const related = [...system.dependsOn, ...downstream.map(s => s.id)];
    const [results, relatedHealth] = await Promise.all([
      Promise.all(checks.map(c => api(`/checks/${enc(c.id)}/results?limit=60`).then(r => r.results))),
      Promise.all(related.map(r => api(`/systems/${enc(r)}/health`).then(h => h.status).catch(() => "unknown"))),
    ]);
    if (view !== systemPage || this.id !== id) return;
    const relatedOf = Object.fromEntries(related.map((r, i) => [r, relatedHealth[i]]));
    const nameOf = Object.fromEntries(systems.map(s => [s.id, s.name]));
    setCrumbs([system.name]);
    const link = sid => el("li", {}, el("a", { href: `#/systems/${enc(sid)}` }, nameOf[sid] || sid), " ", badge(relatedOf[sid] || "unknown"));
    const latencyCharts = [];
    this.root.replaceChildren(
      el("section", { class: "detail-head" },
        el("h2", {}, system.name, " ", badge(health.status)),
        el("span", { class: "dim" }, health.since ? `${words(health.status)} since ${when(health.since)}` : "no result yet")),
      system.description ? el("p", { class: "dim" }, system.description) : null,
      el("div", { class: "grid2" },
        el("section", { class: "card" }, el("h3", {}, "Depends on"),
          system.dependsOn.length ? el("ul", {}, system.dependsOn.map(link)) : el("p", { class: "empty" }, "Nothing.")),
        el("section", { class: "card" }, el("h3", {}, "Depended on by"),
          downstream.length ? el("ul", {}, downstream.map(s => link(s.id))) : el("p", { class: "empty" }, "Nothing."))),
      el("div", { class: "grid2" },
        el("section", { class: "card" }, el("h3", {}, "Open incidents"),
          incidents.length ? el("ul", {}, incidents.map(i => el("li", { class: "notice incident" }, `${i.title} (since ${when(i.openedAt)}${i.healthOverride ? ", held unhealthy" : ""})`))) : el("p", { class: "empty" }, "None.")),
        el("section", { class: "card" }, el("h3", {}, "Maintenance, in progress or to come"),
          maintenances.length ? el("ul", {}, maintenances.map(m => el("li", { class: "notice maintenance" }, `${m.title}: ${when(m.startAt)} – ${when(m.endAt)} (${words(m.status)})`))) : el("p", { class: "empty" }, "None."))),
      el("section", { class: "card" }, el("h3", {}, "Checks"),
        checks.length ? checks.map((c, i) => {
          const chart = el("div", { class: "chart", role: "img", "aria-label": `latency of ${c.name}'s recent results` });
          latencyCharts.push([chart, results[i]]);
          return el("article", {},
            el("h3", {}, c.name, " ", badge(c.latestStatus || "unknown"), el("span", { class: "dim" }, ` ${c.kind}${c.target ? " " + c.target : ""}, every ${c.intervalSeconds} s${c.enabled ? "" : ", disabled"}`)),
            chart, resultsTable(results[i].slice(0, 8)));
        }) : el("p", { class: "empty" }, "No checks.")),
      el("section", { class: "objectives", "aria-label": "Objectives" }, el("h3", {}, "Objectives"),
        objectives.length ? objectives.map(r => objectiveRow({ system, objective: r.objective, status: r.status }, health.status, [])) : el("p", { class: "empty" }, "No objectives.")));
    for (const [box, rs] of latencyCharts) {
      const timed = rs.filter(r => r.latencyMs !== null).reverse();
      if (timed.length < 2) { box.append(el("p", { class: "empty" }, "Not enough results with a latency to draw.")); continue; }
      lineChart(box, timed.map(r => Date.parse(r.at) / 1000), [{ label: "latency", values: timed.map(r => r.latencyMs), colour: cssVar("--info") }], { height: 120, unit: " ms" });
    }
  },
};

function resultsTable(results) {
  if (!results.length) return el("p", { class: "empty" }, "No results yet.");
  return el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "at"), el("th", {}, "status"), el("th", {}, "latency"), el("th", {}, "message"))),
    el("tbody", {}, results.map(r => el("tr", {},
      el("td", {}, new Date(r.at).toLocaleTimeString()),
      el("td", {}, badge(r.status)),
      el("td", { class: "num" }, r.latencyMs === null ? "–" : Math.round(r.latencyMs) + " ms"),
      el("td", { class: "msg" }, r.message || "")))));
}

// ---- Routing, refresh and the live stream ---------------------------------------------------

function setCrumbs(...parts) {
  document.getElementById("crumbs").replaceChildren(...parts.flatMap(([text, href], i) =>
    [i ? " / " : "", href ? el("a", { href }, text) : el("span", { "aria-current": "page" }, text)]));
}

// `#/objectives/<id>`, `#/systems/<id>`, or the overview (also for `#alert-<id>` links).
function route() {
  const m = location.hash.match(/^#\/(objectives|systems)\/(.+)$/);
  if (!m) return [overview, null];
  return [m[1] === "objectives" ? objectivePage : systemPage, decodeURIComponent(m[2])];
}

let view = null, mounted = null;

function report(e) {
  if (e instanceof Unauthorized) return;
  console.error("refresh failed", e);
  setLive("cannot reach the API", false);
}

// Renders the current route from scratch (after navigation), then keeps it fresh.
async function render() {
  const [page, id] = route();
  const root = document.getElementById("view");
  if (mounted !== location.hash.replace(/^#alert-.*/, "")) {
    mounted = location.hash.replace(/^#alert-.*/, "");
    view = page;
    setCrumbs();
    page.mount(root, id);
  }
  await refresh();
  if (location.hash.startsWith("#alert-")) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

let refreshing = null, again = false;

// One refresh at a time; signals during one ask for exactly one more.
async function refresh() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    // A refresh rebuilds what is on screen: the focused link is found again by its address.
    const focused = document.activeElement;
    const focusedHref = focused && focused.closest("#view") && focused.getAttribute("href");
    try {
      await view.refresh();
      forgetDetachedCharts();
      if (focusedHref && !focused.isConnected) {
        [...document.querySelectorAll("#view a")].find(a => a.getAttribute("href") === focusedHref)?.focus({ preventScroll: true });
      }
      if (events && events.readyState === EventSource.OPEN) setLive("live", true);
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
      document.documentElement.dataset.renders = String(Number(document.documentElement.dataset.renders || 0) + 1);
    } catch (e) {
      if (e instanceof Unauthorized) return;
      if (view !== overview && String(e.message).includes("HTTP 404")) {
        document.getElementById("view").replaceChildren(el("p", { class: "empty" }, "Not found (deleted?). ", el("a", { href: "#/" }, "Back to the overview")));
        return;
      }
      report(e);
    } finally {
      refreshing = null;
      // Asked for while this one ran (a navigation, a token): run it now, hidden or not.
      if (again) { again = false; refresh(); }
    }
  })();
  return refreshing;
}

let pending = null, missed = false;
function scheduleRefresh() {
  // A hidden tab refetches nothing; it catches up once when it is shown again.
  if (document.hidden) { missed = true; return; }
  clearTimeout(pending);
  pending = setTimeout(() => refresh(), 150);
}
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && missed) { missed = false; scheduleRefresh(); }
});

function setLive(text, on) {
  const live = document.getElementById("live");
  live.textContent = text;
  live.className = on ? "on" : "";
}

// The signal stream. EventSource cannot send an Authorization header, so with a token the
// stream authenticates with `?access_token=` (RFC 6750, section 2.3), which slod accepts on
// this route only. On a dropped connection the browser reconnects by itself and sends
// `Last-Event-ID`, so the stream resumes with what was missed (or `signals.resync`).
let events = null, retry = null;
function connect() {
  clearTimeout(retry);
  if (events) events.close();
  events = new EventSource("/api/v1/signals" + (token ? "?access_token=" + enc(token) : ""));
  events.onopen = () => { setLive("live", true); scheduleRefresh(); };
  events.onerror = () => {
    if (!document.getElementById("token").hidden) return; // waiting for a token
    if (events.readyState === EventSource.CLOSED) {
      // An error status ends an EventSource for good: open a new one in a while.
      setLive("disconnected, retrying…", false);
      retry = setTimeout(connect, 5000);
    } else {
      setLive("reconnecting…", false);
    }
  };
  events.addEventListener(HEALTH_SIGNAL, e => {
    const { systemId, status } = JSON.parse(e.data);
    healthOf.set(systemId, status);
  });
  events.addEventListener(RESYNC_SIGNAL, () => healthOf.clear());
  for (const name of SIGNALS) events.addEventListener(name, scheduleRefresh);
}

document.querySelector(".skip").addEventListener("click", event => {
  event.preventDefault();
  document.getElementById("view").focus();
});

window.addEventListener("hashchange", () => {
  render().catch(report);
  if (location.hash.startsWith("#/")) document.getElementById("view").focus({ preventScroll: true });
  window.scrollTo(0, 0);
});
connect();
render().catch(report);
// Budgets move with time even when nothing happens: a slow refresh keeps the numbers current.
setInterval(scheduleRefresh, 30000);
