// `mirosnet log diagram`: the run as a sequence diagram. One self-contained HTML page (no
// network needed to view it: data, script and style inline): a lane per chart, mesh
// events as arrows from the sender to each receiver, state changes as boxes on the lane,
// scribbles as notes, faults as bands across the lanes, a time axis; filters by chart and
// signal, and zoom. Rows follow the causal merge (merge.ts), so every arrow points down.
// `--mermaid` gives a Mermaid sequenceDiagram of the same records instead.
import { faultBands, type FaultBand } from './fault-bands.ts';
import { mergeRecords } from './merge.ts';
import { eventKey, type LoadedRecord, type RunLogs } from './records.ts';

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
  return { title, charts, signals, rows, arrows, lost, faults: faultRows(faultBands(logs.faults), rows) };
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

export function toHtml(data: DiagramData): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(data.title)}</title><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:13px system-ui,sans-serif;margin:0;color:#222;background:#fff}
header{position:sticky;top:0;background:#f6f6f6;border-bottom:1px solid #ccc;padding:6px 10px;z-index:2}
header h1{font-size:15px;margin:0 0 4px}
fieldset{display:inline-block;border:1px solid #ccc;margin:2px 6px 2px 0;padding:2px 6px}
legend{font-size:11px;color:#666}
label{margin-right:8px;white-space:nowrap}
#counts{color:#555;margin-left:6px}
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
<fieldset id="chartFilter"><legend>charts</legend></fieldset>
<fieldset id="signalFilter"><legend>signals</legend></fieldset>
<fieldset><legend>zoom</legend><button id="zoomOut" title="zoom out">−</button> <button id="zoomIn" title="zoom in">+</button> <span id="zoomLevel"></span></fieldset>
<span id="counts"></span></header>
<main><svg id="diagram" xmlns="http://www.w3.org/2000/svg"></svg></main>
<script type="application/json" id="data">${scriptJson(data)}</script>
<script>
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var shownCharts = new Set(data.charts), shownSignals = new Set(data.signals), zoom = 1;
  function box(parent, id, items, set) {
    var el = document.getElementById(parent);
    items.forEach(function (name) {
      var l = document.createElement('label'), c = document.createElement('input');
      c.type = 'checkbox'; c.checked = true; c.dataset[id] = name;
      c.addEventListener('change', function () { if (c.checked) set.add(name); else set.delete(name); draw(); });
      l.appendChild(c); l.appendChild(document.createTextNode(' ' + name)); el.appendChild(l);
    });
  }
  box('chartFilter', 'chart', data.charts, shownCharts);
  box('signalFilter', 'signal', data.signals, shownSignals);
  document.getElementById('zoomIn').onclick = function () { zoom = Math.min(4, zoom * 1.25); draw(); };
  document.getElementById('zoomOut').onclick = function () { zoom = Math.max(0.25, zoom / 1.25); draw(); };
  document.getElementById('diagram').addEventListener('wheel', function (e) {
    if (!e.ctrlKey) return; e.preventDefault(); zoom = Math.min(4, Math.max(0.25, zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1))); draw();
  }, { passive: false });
  function el(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e); return e;
  }
  function time(ts) { var d = new Date(ts); return d.toISOString().slice(11, 23); }
  function visible(row) {
    return shownCharts.has(row.chart) && (row.signal === null || row.kind === 'scribble' || shownSignals.has(row.signal));
  }
  function draw() {
    var svg = document.getElementById('diagram');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var defs = el('defs', {}, svg), m = el('marker', { id: 'head', markerWidth: 8, markerHeight: 8, refX: 7, refY: 4, orient: 'auto' }, defs);
    el('path', { d: 'M0,0 L8,4 L0,8 z', fill: '#c0392b' }, m);
    var charts = data.charts.filter(function (c) { return shownCharts.has(c); });
    var laneW = 190 * zoom, rowH = 24 * zoom, left = 90, top = 36;
    var rows = [], rowY = {};
    data.rows.forEach(function (r, i) { if (visible(r)) { rowY[i] = top + 18 + rows.length * rowH; rows.push(i); } });
    var x = {}; charts.forEach(function (c, i) { x[c] = left + laneW * i + laneW / 2; });
    var height = top + 40 + rows.length * rowH;
    svg.setAttribute('width', left + laneW * Math.max(1, charts.length) + laneW / 2 + 20); svg.setAttribute('height', height);
    data.faults.forEach(function (f) {
      var ys = rows.filter(function (i) { return i >= f.fromRow && i <= f.toRow; }).map(function (i) { return rowY[i]; });
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
    rows.forEach(function (i, k) {
      var r = data.rows[i], y = rowY[i];
      if (k % Math.max(1, Math.round(2 / zoom)) === 0) el('text', { 'class': 'axis', x: 4, y: y + 4 }, svg, time(r.ts));
      var g = el('g', { 'class': 'row ' + r.kind, 'data-chart': r.chart, 'data-signal': r.signal || '' }, svg);
      el('title', {}, g, r.text + (r.lamport === null ? '' : '  (lamport ' + r.lamport + ')'));
      if (r.kind === 'trace') {
        var w = Math.min(laneW - 12, 14 + r.label.length * 6.5);
        el('rect', { 'class': 'state', x: x[r.chart] - w / 2, y: y - 9, width: w, height: 18, rx: 4 }, g);
        el('text', { x: x[r.chart], y: y + 4, 'text-anchor': 'middle' }, g, r.label);
      } else if (r.kind === 'scribble') {
        var t = r.label.length > 40 ? r.label.slice(0, 39) + '…' : r.label;
        el('rect', { 'class': 'note', x: x[r.chart] + 6, y: y - 9, width: Math.min(laneW - 12, 10 + t.length * 6), height: 18 }, g);
        el('text', { x: x[r.chart] + 11, y: y + 4 }, g, t);
      } else {
        el('circle', { cx: x[r.chart], cy: y, r: 3, fill: '#c0392b' }, g);
      }
    });
    var drawn = 0;
    data.arrows.forEach(function (a) {
      if (rowY[a.from] === undefined || rowY[a.to] === undefined) return;
      var s = data.rows[a.from], d = data.rows[a.to];
      drawn++;
      var line = el('line', { 'class': 'arrow', 'data-signal': a.signal, 'data-from': s.chart, 'data-to': d.chart, x1: x[s.chart], y1: rowY[a.from], x2: x[d.chart], y2: rowY[a.to] }, svg);
      el('title', {}, line, a.signal + ': ' + s.chart + ' → ' + d.chart);
      el('text', { x: (x[s.chart] + x[d.chart]) / 2, y: (rowY[a.from] + rowY[a.to]) / 2 - 3, 'text-anchor': 'middle', fill: '#c0392b' }, svg, a.signal);
    });
    data.lost.forEach(function (i) {
      if (rowY[i] === undefined) return;
      var r = data.rows[i];
      el('text', { 'class': 'lost', x: x[r.chart] + 8, y: rowY[i] + 4 }, svg, '✕ ' + r.label + ' never received');
    });
    document.getElementById('zoomLevel').textContent = Math.round(zoom * 100) + '%';
    document.getElementById('counts').textContent = charts.length + ' charts, ' + rows.length + ' rows, ' + drawn + ' arrows' + (data.lost.length ? ', ' + data.lost.length + ' lost' : '');
  }
  draw();
})();
</script></body></html>
`;
}
