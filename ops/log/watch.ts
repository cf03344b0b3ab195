// `mirosnet watch`: a live page of a running mesh. A passive snoop observer (no chart)
// feeds a local HTTP server; the page shows each chart's current state (from its latest
// trace line) and its latest lines, updated by server-sent events.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SnoopRecord } from '../../runtime/index.ts';
import { startSnoopListener, type SnoopListener, type SnoopListenerOptions } from '../logs/snoop-listener.ts';

/** Lines kept per chart. */
export const WATCH_LINES = 12;

export interface ChartView {
  chart: string;
  host: string;
  state: string | null;
  lamport: number | null;
  lines: string[];
  /** Wall time of the latest record (ms). */
  updated: number;
}

export interface WatchOptions extends Omit<SnoopListenerOptions, 'out' | 'line' | 'record' | 'jsonl'> {
  port: number;
  /** Address to listen on (default 127.0.0.1: the page is for this machine). */
  bind?: string;
}

export interface Watch {
  readonly url: string;
  readonly charts: Map<string, ChartView>;
  readonly listener: SnoopListener;
  stop(): Promise<void>;
}

export class PortInUseError extends Error {}

/** Applies one record to the views; returns the view that changed. */
export function applyRecord(charts: Map<string, ChartView>, r: SnoopRecord): ChartView {
  let view = charts.get(r.sender);
  if (!view) charts.set(r.sender, (view = { chart: r.sender, host: r.host, state: null, lamport: null, lines: [], updated: 0 }));
  if (r.kind === 'trace' && r.to) view.state = r.to;
  view.lamport = r.lamport ?? view.lamport;
  view.updated = r.ts;
  view.lines.push(r.text);
  if (view.lines.length > WATCH_LINES) view.lines.splice(0, view.lines.length - WATCH_LINES);
  return view;
}

function listen(server: Server, port: number, bind: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new PortInUseError(`port ${port} on ${bind} is already in use (another mirosnet watch?): pick a free one with --port`));
      else if (err.code === 'EACCES') reject(new PortInUseError(`may not listen on port ${port} of ${bind} (ports below 1024 need root): pick another with --port`));
      else reject(err);
    });
    server.listen(port, bind, () => resolve());
  });
}

export async function startWatch(opts: WatchOptions): Promise<Watch> {
  const bind = opts.bind ?? '127.0.0.1';
  const charts = new Map<string, ChartView>();
  const clients = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      for (const view of charts.values()) res.write(`data: ${JSON.stringify(view)}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(WATCH_PAGE);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: the page is at /\n');
  });
  await listen(server, opts.port, bind); // first: a taken port fails before any broker is touched
  let listener: SnoopListener;
  try {
    listener = await startSnoopListener({
      ...opts,
      jsonl: false,
      line: () => undefined,
      record: (r) => {
        const view = applyRecord(charts, r);
        for (const c of clients) c.write(`data: ${JSON.stringify(view)}\n\n`);
      },
    });
  } catch (err) {
    server.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}/`,
    charts,
    listener,
    async stop() {
      for (const c of clients) c.end();
      await listener.stop();
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections(); // open pages keep their connections alive
      await closed;
    },
  };
}

const WATCH_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mirosnet watch</title><link rel="icon" href="data:,">
<style>
body{font:13px system-ui,sans-serif;margin:12px;color:#222}
h1{font-size:16px;margin:0 0 8px}
#status{color:#666;margin-left:8px;font-weight:normal}
.charts{display:flex;flex-wrap:wrap;gap:10px}
.chart{border:1px solid #ccc;border-radius:6px;padding:8px;min-width:320px;max-width:560px;flex:1}
.chart h2{font-size:14px;margin:0 0 4px}
.state{display:inline-block;background:#e4f0ff;border:1px solid #3a70b0;border-radius:4px;padding:1px 8px;font-weight:600}
.meta{color:#777;font-size:11px;margin-left:6px}
pre{font:11px ui-monospace,monospace;background:#f7f7f7;padding:4px;margin:6px 0 0;white-space:pre-wrap;max-height:14em;overflow:auto}
</style></head><body>
<h1>mirosnet watch <span id="status">connecting…</span></h1>
<div class="charts" id="charts"></div>
<script>
(function () {
  'use strict';
  var box = document.getElementById('charts'), status = document.getElementById('status'), seen = 0;
  function card(view) {
    var id = 'chart-' + view.chart, el = document.getElementById(id);
    if (!el) {
      el = document.createElement('div'); el.className = 'chart'; el.id = id; el.dataset.chart = view.chart;
      el.innerHTML = '<h2></h2><span class="state"></span><span class="meta"></span><pre></pre>';
      el.querySelector('h2').textContent = view.chart;
      box.appendChild(el);
    }
    return el;
  }
  var source = new EventSource('/events');
  source.onopen = function () { status.textContent = 'live'; };
  source.onerror = function () { status.textContent = 'disconnected, retrying…'; };
  source.onmessage = function (e) {
    var view = JSON.parse(e.data), el = card(view);
    el.querySelector('.state').textContent = view.state === null ? '(no trace yet)' : view.state;
    el.querySelector('.meta').textContent = view.host + (view.lamport === null ? '' : ' · lamport ' + view.lamport) + ' · ' + new Date(view.updated).toISOString().slice(11, 23);
    el.querySelector('pre').textContent = view.lines.join('\\n');
    seen++; status.textContent = 'live · ' + seen + ' updates';
  };
})();
</script></body></html>
`;
