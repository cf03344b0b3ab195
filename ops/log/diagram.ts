// `mirosnet log diagram`: the run as plots and a sequence diagram. One self-contained HTML
// page (no network needed to view it: data, script and style inline). It opens on the
// overview: plots of the whole run (plots.ts: events per second, delivery latency, in-flight
// and unconfirmed, duplicates and drops; in total or per chart) with the faults as bands
// across each. Dragging across a plot (or the time buttons) selects a window; the sequence
// diagram below shows that window's rows, at most MAX_DIAGRAM_ROWS of them: a lane per chart,
// mesh events as arrows from the sender to each receiver, state changes as boxes on the
// lane, scribbles as notes, faults as bands across the lanes, a time axis; filters by chart
// and signal, and zoom. Rows follow the causal merge (merge.ts), so every arrow points down.
// The page carries its rows as columns of small numbers (indexes into string tables), so it
// stays a fraction of the size of the evidence.
// `--mermaid` gives a Mermaid sequenceDiagram of the same records instead.
import { faultBands, type FaultBand } from './fault-bands.ts';
import { mergeRecords } from './merge.ts';
import { plotData, type PlotData } from './plots.ts';
import { eventKey, type LoadedRecord, type RunLogs } from './records.ts';

/** The sequence diagram draws at most this many rows at once (the first of the selected window). */
export const MAX_DIAGRAM_ROWS = 1500;

/** What the page draws, embedded in it as JSON. */
export interface DiagramData {
  title: string;
  charts: string[];
  signals: string[];
  /** One row per drawn record, in causal order. */
  rows: Array<{ chart: string; kind: 'trace' | 'scribble' | 'mesh-send' | 'mesh-receive'; ts: number; lamport: number | null; signal: string | null; label: string; text: string }>;
  /** Mesh deliveries: row of the send → row of the receive. */
  arrows: Array<{ from: number; to: number; signal: string }>;
  /** Sends nobody received (row of the send). */
  lost: number[];
  faults: Array<{ label: string; fromRow: number; toRow: number }>;
  plots: PlotData;
}

const DRAWN = new Set(['trace', 'scribble', 'mesh-send', 'mesh-receive']);

export function diagramData(logs: RunLogs, title: string): DiagramData {
  const merged = mergeRecords(logs).filter((r) => DRAWN.has(r.kind));
  const rows: DiagramData['rows'] = merged.map((r) => ({
    chart: r.sender,
    kind: r.kind as DiagramData['rows'][number]['kind'],
    ts: r.ts,
    lamport: r.lamport,
    signal: r.signal,
    label: label(r),
    text: r.text,
  }));
  const sendRow = new Map<string, number>();
  merged.forEach((r, i) => r.kind === 'mesh-send' && r.event && sendRow.set(eventKey(r.event), i));
  const arrows: DiagramData['arrows'] = [];
  const received = new Set<string>();
  merged.forEach((r, i) => {
    if (r.kind !== 'mesh-receive' || !r.event) return;
    const from = sendRow.get(eventKey(r.event));
    received.add(eventKey(r.event));
    if (from !== undefined) arrows.push({ from, to: i, signal: r.event.signal });
  });
  const lost = [...sendRow].filter(([key]) => !received.has(key)).map(([, row]) => row);
  const charts = [...new Set(merged.map((r) => r.sender))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const signals = [...new Set(merged.map((r) => r.signal).filter((s): s is string => s !== null))].sort();
  return { title, charts, signals, rows, arrows, lost, faults: faultRows(faultBands(logs.faults), rows), plots: plotData(logs, merged, charts) };
}

function label(r: LoadedRecord): string {
  if (r.kind === 'trace') return r.to ?? r.text;
  if (r.kind === 'scribble') return r.text.replace(/^.*?\] # /, '');
  return r.signal ?? '';
}

function faultRows(bands: FaultBand[], rows: DiagramData['rows']): DiagramData['faults'] {
  if (rows.length === 0) return [];
  return bands.map((b) => {
    let fromRow = rows.findIndex((r) => r.ts >= b.start);
    if (fromRow < 0) fromRow = rows.length - 1;
    let toRow = rows.findLastIndex((r) => r.ts <= b.end);
    if (toRow < fromRow) toRow = fromRow;
    return { label: b.label, fromRow, toRow };
  });
}

// ---- Mermaid -----------------------------------------------------------------------------

const mermaidText = (s: string) => s.replace(/[;#:<>]/g, ' ').replace(/\s+/g, ' ').trim();

export function toMermaid(data: DiagramData): string {
  const id = new Map(data.charts.map((c, i) => [c, `c${i}`]));
  const out = ['sequenceDiagram'];
  for (const c of data.charts) out.push(`  participant ${id.get(c)} as ${mermaidText(c)}`);
  const arrowAt = new Map(data.arrows.map((a) => [a.to, a]));
  const lost = new Set(data.lost);
  data.rows.forEach((r, i) => {
    const who = id.get(r.chart)!;
    if (r.kind === 'trace') out.push(`  Note over ${who}: ${mermaidText(r.label)}`);
    else if (r.kind === 'scribble') out.push(`  Note right of ${who}: ${mermaidText(r.label)}`);
    else if (r.kind === 'mesh-receive' && arrowAt.has(i)) out.push(`  ${id.get(data.rows[arrowAt.get(i)!.from].chart)}->>${who}: ${mermaidText(r.label)}`);
    else if (r.kind === 'mesh-send' && lost.has(i)) out.push(`  Note over ${who}: ${mermaidText(r.label)} sent, never received`);
  });
  return `${out.join('\n')}\n`;
}

// ---- HTML --------------------------------------------------------------------------------

/** JSON that is safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

const KINDS = ['trace', 'scribble', 'mesh-send', 'mesh-receive'] as const;

/** What the page embeds: the rows as columns of indexes, times relative to t0 (ms). */
export interface PageData {
  title: string;
  t0: number;
  maxRows: number;
  charts: string[];
  signals: string[];
  kinds: readonly string[];
  labels: string[];
  rows: { chart: number[]; kind: number[]; t: number[]; lamport: Array<number | null>; signal: number[]; label: number[] };
  /** Arrows as [from, to] row pairs, flattened. */
  arrows: number[];
  lost: number[];
  faults: Array<{ label: string; start: number; end: number }>;
  plots: Omit<PlotData, 't0' | 'faults'> & { t0: number };
}

export function pageData(data: DiagramData): PageData {
  const t0 = data.plots.t0;
  const index = <T>(list: T[]) => new Map(list.map((x, i) => [x, i]));
  const charts = index(data.charts);
  const signals = index(data.signals);
  const labels = new Map<string, number>();
  const labelOf = (l: string) => {
    let i = labels.get(l);
    if (i === undefined) labels.set(l, (i = labels.size));
    return i;
  };
  const rows: PageData['rows'] = { chart: [], kind: [], t: [], lamport: [], signal: [], label: [] };
  for (const r of data.rows) {
    rows.chart.push(charts.get(r.chart)!);
    rows.kind.push(KINDS.indexOf(r.kind));
    rows.t.push(r.ts - t0);
    rows.lamport.push(r.lamport);
    rows.signal.push(r.signal === null ? -1 : signals.get(r.signal)!);
    rows.label.push(labelOf(r.label));
  }
  const { faults, ...plots } = data.plots;
  return {
    title: data.title,
    t0,
    maxRows: MAX_DIAGRAM_ROWS,
    charts: data.charts,
    signals: data.signals,
    kinds: KINDS,
    labels: [...labels.keys()],
    rows,
    arrows: data.arrows.flatMap((a) => [a.from, a.to]),
    lost: data.lost,
    faults: faults.map((f) => ({ label: f.label, start: f.start - t0, end: f.end - t0 })),
    plots: { ...plots, t0: 0 },
  };
}

export function toHtml(data: DiagramData): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(data.title)}</title><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:13px system-ui,sans-serif;margin:0;color:#222;background:#fff}
header{position:sticky;top:0;background:#f6f6f6;border-bottom:1px solid #ccc;padding:6px 10px;z-index:2}
header h1{font-size:15px;margin:0 0 4px}
fieldset{display:inline-block;border:1px solid #ccc;margin:2px 6px 2px 0;padding:2px 6px;max-height:66px;overflow:auto;vertical-align:top}
legend{font-size:11px;color:#666}
label{margin-right:8px;white-space:nowrap}
#counts,#window{color:#555;margin-left:6px}
#plots{padding:4px 10px;border-bottom:1px solid #ccc}
.plot{display:block;cursor:crosshair;user-select:none}
.plot .frame{fill:#fcfcfc;stroke:#ccc}
.plot .title{font-weight:600;fill:#333}
.plot .s0{stroke:#1f6fb2;fill:none;stroke-width:1.3}
.plot .s1{stroke:#d9822b;fill:none;stroke-width:1.3}
.plot .brush{fill:#3a70b0;opacity:.2}
.key0{color:#1f6fb2}.key1{color:#d9822b}
svg text{font:11px system-ui,sans-serif}
.lanehead{font-weight:600}
.laneline{stroke:#bbb;stroke-dasharray:4 3}
.state{fill:#e4f0ff;stroke:#3a70b0}
.note{fill:#fff7c2;stroke:#c8b040}
.arrow{stroke:#c0392b;stroke-width:1.5;fill:none;marker-end:url(#head)}
.lost{fill:#c0392b}
.fault{fill:#ffb0b0;opacity:.35}
.faultlabel{fill:#900;font-weight:600}
.axis{fill:#777;font-size:10px}
</style></head><body>
<header><h1>${escapeHtml(data.title)}</h1>
<fieldset><legend>plots of</legend><select id="seriesOf"><option value="">all charts</option></select></fieldset>
<fieldset><legend>time window</legend><button id="timeIn" title="narrower window">+</button> <button id="timeOut" title="wider window">−</button> <button id="timeAll" title="the whole run">all</button> <span id="window"></span></fieldset>
<fieldset id="chartFilter"><legend>charts</legend></fieldset>
<fieldset id="signalFilter"><legend>signals</legend></fieldset>
<fieldset><legend>zoom</legend><button id="zoomOut" title="zoom out">−</button> <button id="zoomIn" title="zoom in">+</button> <span id="zoomLevel"></span></fieldset>
<span id="counts"></span></header>
<section id="plots"></section>
<main><svg id="diagram" xmlns="http://www.w3.org/2000/svg"></svg></main>
<script type="application/json" id="data">${scriptJson(pageData(data))}</script>
<script>${PAGE_SCRIPT}</script></body></html>
`;
}

// The page's script (plain ES5, no template placeholders inside).
const PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var R = data.rows, P = data.plots, nRows = R.t.length;
  var shownCharts = new Set(data.charts), shownSignals = new Set(data.signals), zoom = 1;
  var span = Math.max(1, P.buckets * P.bucketMs);
  var view = { a: 0, b: span };
  var seriesOf = '';
  var arrowTo = {};
  for (var i = 0; i < data.arrows.length; i += 2) arrowTo[data.arrows[i + 1]] = data.arrows[i];
  var PLOTS = [
    { title: 'events per second', keys: ['events'], names: ['records'], rate: true },
    { title: 'delivery latency (ms)', keys: ['p50', 'p99'], names: ['p50', 'p99'] },
    { title: 'in flight and unconfirmed', keys: ['inFlight', 'unconfirmed'], names: ['in flight', 'unconfirmed'], stats: true },
    { title: 'duplicates and drops per second', keys: ['duplicates', 'drops'], names: ['duplicates', 'drops'], rate: true, stats: true }
  ];
  function el(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e); return e;
  }
  function time(t) { return new Date(data.t0 + t).toISOString().slice(11, 23); }
  function box(parent, id, items, set) {
    var holder = document.getElementById(parent);
    items.forEach(function (name) {
      var l = document.createElement('label'), c = document.createElement('input');
      c.type = 'checkbox'; c.checked = true; c.dataset[id] = name;
      c.addEventListener('change', function () { if (c.checked) set.add(name); else set.delete(name); drawDiagram(); });
      l.appendChild(c); l.appendChild(document.createTextNode(' ' + name)); holder.appendChild(l);
    });
  }
  box('chartFilter', 'chart', data.charts, shownCharts);
  box('signalFilter', 'signal', data.signals, shownSignals);
  var select = document.getElementById('seriesOf');
  Object.keys(P.perChart).forEach(function (c) { var o = document.createElement('option'); o.value = c; o.textContent = c; select.appendChild(o); });
  select.addEventListener('change', function () { seriesOf = select.value; drawPlots(); });
  document.getElementById('zoomIn').onclick = function () { zoom = Math.min(4, zoom * 1.25); drawDiagram(); };
  document.getElementById('zoomOut').onclick = function () { zoom = Math.max(0.25, zoom / 1.25); drawDiagram(); };
  document.getElementById('diagram').addEventListener('wheel', function (e) {
    if (!e.ctrlKey) return; e.preventDefault(); zoom = Math.min(4, Math.max(0.25, zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1))); drawDiagram();
  }, { passive: false });
  function setView(a, b) {
    var w = Math.max(P.bucketMs, b - a);
    a = Math.max(0, Math.min(a, span - w)); view = { a: a, b: Math.min(span, a + w) };
    draw();
  }
  document.getElementById('timeIn').onclick = function () { var w = (view.b - view.a) / 4; setView(view.a + w, view.b - w); };
  document.getElementById('timeOut').onclick = function () { var w = (view.b - view.a) / 2; setView(view.a - w, view.b + w); };
  document.getElementById('timeAll').onclick = function () { setView(0, span); };

  // ---- plots ----
  var W = 0, H = 110, LEFT = 60, RIGHT = 12, TOP = 16, BOTTOM = 16;
  function xOf(t) { return LEFT + (t - view.a) / (view.b - view.a) * (W - LEFT - RIGHT); }
  function tOf(x) { return view.a + (x - LEFT) / (W - LEFT - RIGHT) * (view.b - view.a); }
  function drawPlots() {
    var holder = document.getElementById('plots');
    while (holder.firstChild) holder.removeChild(holder.firstChild);
    W = Math.max(400, holder.clientWidth - 20);
    var s = seriesOf ? P.perChart[seriesOf] : P.total;
    var b0 = Math.max(0, Math.floor(view.a / P.bucketMs)), b1 = Math.min(P.buckets - 1, Math.ceil(view.b / P.bucketMs));
    var perSecond = 1000 / P.bucketMs;
    PLOTS.forEach(function (def, k) {
      var svg = el('svg', { 'class': 'plot', 'data-plot': def.keys.join(','), width: W, height: H }, holder);
      el('rect', { 'class': 'frame', x: LEFT, y: TOP, width: W - LEFT - RIGHT, height: H - TOP - BOTTOM }, svg);
      var max = 0;
      def.keys.forEach(function (key) { for (var b = b0; b <= b1; b++) { var v = s[key][b]; if (v !== null && v * (def.rate ? perSecond : 1) > max) max = v * (def.rate ? perSecond : 1); } });
      max = max || 1;
      data.faults.forEach(function (f) {
        if (f.end < view.a || f.start > view.b) return;
        var x1 = Math.max(LEFT, xOf(f.start)), x2 = Math.min(W - RIGHT, xOf(Math.max(f.end, f.start + P.bucketMs / 4)));
        var g = el('g', { 'class': 'faultband', 'data-fault': f.label }, svg);
        el('rect', { 'class': 'fault', x: x1, y: TOP, width: Math.max(1, x2 - x1), height: H - TOP - BOTTOM }, g);
        el('title', {}, g, f.label + ' ' + time(f.start) + ' – ' + time(f.end));
      });
      def.keys.forEach(function (key, j) {
        var pts = [], series = s[key];
        for (var b = b0; b <= b1; b++) {
          var v = series[b];
          if (v === null) { if (pts.length) { el('polyline', { 'class': 's' + j, 'data-series': key, points: pts.join(' ') }, svg); pts = []; } continue; }
          var x = xOf((b + 0.5) * P.bucketMs), y = H - BOTTOM - (v * (def.rate ? perSecond : 1)) / max * (H - TOP - BOTTOM);
          pts.push(x.toFixed(1) + ',' + y.toFixed(1));
        }
        if (pts.length) el('polyline', { 'class': 's' + j, 'data-series': key, points: pts.join(' ') }, svg);
      });
      var head = el('text', { 'class': 'title', x: LEFT, y: 12 }, svg, def.title + (def.stats && !P.hasStats ? ' (no stats lines in this run)' : '') + '  ');
      def.names.forEach(function (n, j) { el('tspan', { 'class': 'key' + j, fill: j ? '#d9822b' : '#1f6fb2' }, head, '■ ' + n + '  '); });
      el('text', { 'class': 'axis', x: LEFT - 4, y: TOP + 8, 'text-anchor': 'end' }, svg, String(Math.round(max * 10) / 10));
      el('text', { 'class': 'axis', x: LEFT - 4, y: H - BOTTOM, 'text-anchor': 'end' }, svg, '0');
      for (var q = 0; q <= 4; q++) {
        var t = view.a + (view.b - view.a) * q / 4;
        el('text', { 'class': 'axis', x: xOf(t), y: H - 3, 'text-anchor': q === 0 ? 'start' : q === 4 ? 'end' : 'middle' }, svg, time(t).slice(0, 8));
      }
      brush(svg);
    });
  }
  function brush(svg) {
    var start = null, rect = null;
    function x(e) { return e.clientX - svg.getBoundingClientRect().left; }
    svg.addEventListener('mousedown', function (e) { start = x(e); rect = el('rect', { 'class': 'brush', x: start, y: TOP, width: 0, height: H - TOP - BOTTOM }, svg); e.preventDefault(); });
    svg.addEventListener('mousemove', function (e) { if (start === null) return; var now = x(e); rect.setAttribute('x', Math.min(start, now)); rect.setAttribute('width', Math.abs(now - start)); });
    svg.addEventListener('mouseup', function (e) {
      if (start === null) return;
      var end = x(e), a = Math.min(start, end), b = Math.max(start, end);
      start = null;
      if (b - a < 3) { rect.remove(); return; }
      setView(tOf(a), tOf(b));
    });
  }

  // ---- sequence diagram of the window ----
  function visible(i) {
    var sig = R.signal[i];
    return shownCharts.has(data.charts[R.chart[i]]) && (sig < 0 || data.kinds[R.kind[i]] === 'scribble' || shownSignals.has(data.signals[sig]));
  }
  function drawDiagram() {
    var svg = document.getElementById('diagram');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var defs = el('defs', {}, svg), m = el('marker', { id: 'head', markerWidth: 8, markerHeight: 8, refX: 7, refY: 4, orient: 'auto' }, defs);
    el('path', { d: 'M0,0 L8,4 L0,8 z', fill: '#c0392b' }, m);
    var charts = data.charts.filter(function (c) { return shownCharts.has(c); });
    var laneW = 190 * zoom, rowH = 24 * zoom, left = 90, top = 36;
    var rows = [], rowY = {}, inWindow = 0;
    for (var i = 0; i < nRows; i++) {
      if (R.t[i] < view.a || R.t[i] > view.b || !visible(i)) continue;
      inWindow++;
      if (rows.length >= data.maxRows) continue;
      rowY[i] = top + 18 + rows.length * rowH; rows.push(i);
    }
    var x = {}; charts.forEach(function (c, i) { x[c] = left + laneW * i + laneW / 2; });
    var height = top + 40 + rows.length * rowH;
    svg.setAttribute('width', left + laneW * Math.max(1, charts.length) + laneW / 2 + 20); svg.setAttribute('height', height);
    data.faults.forEach(function (f) {
      var ys = [];
      rows.forEach(function (i) { if (R.t[i] >= f.start && R.t[i] <= f.end) ys.push(rowY[i]); });
      if (!ys.length) return;
      var g = el('g', { 'class': 'faultband', 'data-fault': f.label }, svg);
      el('rect', { 'class': 'fault', x: left - 4, y: ys[0] - rowH / 2, width: laneW * charts.length + 8, height: ys[ys.length - 1] - ys[0] + rowH }, g);
      el('text', { 'class': 'faultlabel', x: left, y: ys[0] - rowH / 2 + 11 }, g, f.label);
    });
    charts.forEach(function (c) {
      var g = el('g', { 'class': 'lane', 'data-chart': c }, svg);
      el('text', { 'class': 'lanehead', x: x[c], y: top - 12, 'text-anchor': 'middle' }, g, c);
      el('line', { 'class': 'laneline', x1: x[c], x2: x[c], y1: top - 6, y2: height - 10 }, g);
    });
    var every = Math.max(1, Math.round(2 / zoom));
    rows.forEach(function (i, k) {
      var y = rowY[i], chart = data.charts[R.chart[i]], kind = data.kinds[R.kind[i]], label = data.labels[R.label[i]];
      var signal = R.signal[i] < 0 ? '' : data.signals[R.signal[i]];
      if (k % every === 0) el('text', { 'class': 'axis', x: 4, y: y + 4 }, svg, time(R.t[i]));
      var g = el('g', { 'class': 'row ' + kind, 'data-chart': chart, 'data-signal': signal }, svg);
      el('title', {}, g, chart + ' ' + kind + ' ' + (signal || '') + ' ' + label + '  ' + time(R.t[i]) + (R.lamport[i] === null ? '' : '  (lamport ' + R.lamport[i] + ')'));
      if (kind === 'trace') {
        var w = Math.min(laneW - 12, 14 + label.length * 6.5);
        el('rect', { 'class': 'state', x: x[chart] - w / 2, y: y - 9, width: w, height: 18, rx: 4 }, g);
        el('text', { x: x[chart], y: y + 4, 'text-anchor': 'middle' }, g, label);
      } else if (kind === 'scribble') {
        var t = label.length > 40 ? label.slice(0, 39) + '…' : label;
        el('rect', { 'class': 'note', x: x[chart] + 6, y: y - 9, width: Math.min(laneW - 12, 10 + t.length * 6), height: 18 }, g);
        el('text', { x: x[chart] + 11, y: y + 4 }, g, t);
      } else {
        el('circle', { cx: x[chart], cy: y, r: 3, fill: '#c0392b' }, g);
      }
    });
    var drawn = 0;
    rows.forEach(function (to) {
      var from = arrowTo[to];
      if (from === undefined || rowY[from] === undefined) return;
      var s = data.charts[R.chart[from]], d = data.charts[R.chart[to]], signal = data.signals[R.signal[to]] || data.labels[R.label[to]];
      drawn++;
      var line = el('line', { 'class': 'arrow', 'data-signal': signal, 'data-from': s, 'data-to': d, x1: x[s], y1: rowY[from], x2: x[d], y2: rowY[to] }, svg);
      el('title', {}, line, signal + ': ' + s + ' → ' + d);
      el('text', { x: (x[s] + x[d]) / 2, y: (rowY[from] + rowY[to]) / 2 - 3, 'text-anchor': 'middle', fill: '#c0392b' }, svg, signal);
    });
    var lost = 0;
    data.lost.forEach(function (i) {
      if (rowY[i] === undefined) return;
      lost++;
      el('text', { 'class': 'lost', x: x[data.charts[R.chart[i]]] + 8, y: rowY[i] + 4 }, svg, '✕ ' + data.labels[R.label[i]] + ' never received');
    });
    document.getElementById('zoomLevel').textContent = Math.round(zoom * 100) + '%';
    document.getElementById('counts').textContent = charts.length + ' charts, ' + rows.length + ' rows, ' + drawn + ' arrows' + (lost ? ', ' + lost + ' lost' : '') +
      (inWindow > rows.length ? ' (the first ' + rows.length + ' of ' + inWindow + ' rows in the window: select a narrower window on the plots)' : '');
    svg.setAttribute('data-rows-in-window', inWindow);
  }
  function draw() {
    document.getElementById('window').textContent = time(view.a) + ' – ' + time(view.b);
    document.body.setAttribute('data-view', view.a + ',' + view.b);
    drawPlots(); drawDiagram();
  }
  draw();
  window.renderedAt = performance.now();
})();
`;
