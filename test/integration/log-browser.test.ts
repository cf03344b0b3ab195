// The run's sequence diagram (run.html of a real mesh-ring run) and the live page of
// `mirosnet watch`, in a real headless Chromium (Debian's chromium, driven by
// puppeteer-core). Skipped by name when chromium is not installed (mirosnet install-deps --test).
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DIAGRAM_ROWS, diagramData, toHtml } from '../../ops/log/diagram.ts';
import { faultBands } from '../../ops/log/fault-bands.ts';
import { loadRun } from '../../ops/log/records.ts';
import { startWatch, type Watch } from '../../ops/log/watch.ts';
import { writeLargeRun } from './large-run.ts';
import type { ScenarioSummary } from '../../ops/scenario/summary.ts';
import { generateKey } from '../../runtime/index.ts';
import { brokers, makeNode, stopCreated } from './net-helpers.ts';
import { scenario } from './scenario-helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
// evaluated in the page (this file is type-checked without the DOM library)
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
const haveChromium = existsSync(CHROMIUM);

async function launch(): Promise<Browser> {
  const puppeteer = (await import('puppeteer-core')).default;
  const root = process.getuid?.() === 0;
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: [...(root ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** A page that collects console errors and uncaught exceptions. */
async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors };
}

describe.skipIf(!haveChromium)(`log pages in a real browser${haveChromium ? '' : ` (NEEDS CHROMIUM: not run; ${CHROMIUM} missing, as root mirosnet install-deps --test installs it)`}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(stopCreated);

  it('run.html of a real mesh-ring run: no console errors, a lane per chart, an arrow per mesh delivery, filters hide what they should', async () => {
    const r = await scenario('mesh-ring', 3);
    expect(r.pass, r.summary).toBe(true);
    const summary = JSON.parse(readFileSync(join(r.logDir, 'summary.json'), 'utf8')) as ScenarioSummary;
    expect(summary.checks.find((c) => c.name.startsWith('log check'))?.pass).toBe(true);
    const records = readFileSync(join(r.logDir, 'distributed.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const charts = [...new Set(records.map((x) => x.sender as string))].sort();
    const deliveries = records.filter((x) => x.kind === 'mesh-receive').map((x) => `${x.event.sender}>${x.sender}`).sort();
    expect(deliveries).toHaveLength(9); // 3 laps of 3 hops
    expect(records.filter((x) => x.kind === 'mesh-send')).toHaveLength(9);

    const { page, errors } = await openPage(browser, pathToFileURL(join(r.logDir, 'run.html')).href);
    const lanes = () => page.$$eval('g.lane', (gs) => gs.map((g) => g.getAttribute('data-chart')!).sort());
    const arrows = () => page.$$eval('line.arrow', (ls) => ls.map((l) => `${l.getAttribute('data-from')}>${l.getAttribute('data-to')}`).sort());
    expect(await lanes()).toEqual(charts);
    expect(await arrows()).toEqual(deliveries);

    // hide ring1: its lane and every arrow to or from it go, the others stay
    const ring1 = charts.find((c) => c.startsWith('ring1-'))!;
    await page.click(`input[data-chart="${ring1}"]`);
    expect(await lanes()).toEqual(charts.filter((c) => c !== ring1));
    expect(await arrows()).toEqual(deliveries.filter((d) => !d.split('>').includes(ring1)));
    await page.click(`input[data-chart="${ring1}"]`);
    expect(await arrows()).toEqual(deliveries);
    // hide the TOKEN signal: no arrow left, the state boxes stay
    await page.click('input[data-signal="TOKEN"]');
    expect(await arrows()).toEqual([]);
    expect(await page.$$eval('g.row.trace', (gs) => gs.length)).toBeGreaterThan(0);
    // zoom in: the diagram grows
    const height = () => page.$eval('#diagram', (s) => Number(s.getAttribute('height')));
    const before = await height();
    await page.click('#zoomIn');
    expect(await height()).toBeGreaterThan(before);
    expect(errors).toEqual([]);
  });

  it("run.html of a real chaos run: plots with every chart's stats, a band per cycle of faults.jsonl, no console errors", async () => {
    const r = await scenario('chaos', 3, ['--cycles', '3', '--seed', '5', '--faults', 'kill-instance,pause-broker']);
    expect(r.pass, r.summary).toBe(true);
    const logs = loadRun([r.logDir]);
    const bands = faultBands(logs.faults);
    expect(bands).toHaveLength(3);
    const { page, errors } = await openPage(browser, pathToFileURL(join(r.logDir, 'run.html')).href);
    console.log(`chaos run.html (3 cycles): rendered ${Math.round(Number(await page.evaluate('window.renderedAt')))} ms after navigation`);
    const plots = await page.$$eval('svg.plot', (ps) => ps.map((p) => ({ bands: [...p.querySelectorAll('g.faultband')].map((g) => g.getAttribute('data-fault')), series: [...p.querySelectorAll('polyline')].map((l) => l.getAttribute('data-series')).filter(Boolean) })));
    expect(plots).toHaveLength(4);
    for (const p of plots) expect(p.bands).toEqual(bands.map((b) => b.label));
    // the stats lines of the instances' evidence files made the in-flight plot
    expect(plots[2].series).toEqual(expect.arrayContaining(['inFlight', 'unconfirmed']));
    expect(await page.$eval('svg.plot[data-plot="inFlight,unconfirmed"] .title', (t) => t.textContent)).not.toContain('no stats lines');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('run.html of a 40,000-event run with 100 faults: plots with a band per fault, the diagram shows only the selected window, zoom works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'large-run-'));
    const run = writeLargeRun(dir, { events: 40_000, faults: 100 });
    const logs = loadRun([dir]);
    const evidenceBytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    const data = diagramData(logs, 'large run');
    writeFileSync(join(dir, 'run.html'), toHtml(data));
    const pageBytes = statSync(join(dir, 'run.html')).size;
    expect(pageBytes).toBeLessThan(evidenceBytes / 4);
    const bands = faultBands(logs.faults);
    expect(bands).toHaveLength(100);

    const started = performance.now();
    const { page, errors } = await openPage(browser, pathToFileURL(join(dir, 'run.html')).href);
    const loaded = performance.now() - started;
    const rendered = await page.evaluate('window.renderedAt');
    // measured, not asserted (speed belongs to benchmarks): reported with the sizes
    console.log(`large run.html: ${run.records} records, ${bands.length} faults; page ${pageBytes} B vs evidence ${evidenceBytes} B; rendered ${Math.round(Number(rendered))} ms after navigation, load ${Math.round(loaded)} ms`);

    // the overview: 4 plots, each with a band per fault of faults.jsonl, a line per series
    const plotBands = () => page.$$eval('svg.plot', (ps) => ps.map((p) => [...p.querySelectorAll('g.faultband')].map((g) => g.getAttribute('data-fault'))));
    const all = await plotBands();
    expect(all).toHaveLength(4);
    for (const labels of all) expect(labels).toEqual(bands.map((b) => b.label));
    expect(await page.$$eval('svg.plot', (ps) => ps.map((p) => p.querySelectorAll('polyline').length > 0))).toEqual([true, true, true, true]);
    // the diagram: the first rows of the run, never all of them
    const shown = () => page.$$eval('g.row', (gs) => gs.length);
    const inWindow = () => page.$eval('#diagram', (s) => Number(s.getAttribute('data-rows-in-window')));
    expect(await inWindow()).toBe(run.records);
    expect(await shown()).toBe(MAX_DIAGRAM_ROWS);
    expect(await page.$$eval('line.arrow', (ls) => ls.length)).toBeLessThanOrEqual(MAX_DIAGRAM_ROWS);

    // zoom: drag across the first plot from 40% to 45% of its width
    const view = async () => (await page.$eval('body', (b) => b.getAttribute('data-view')))!.split(',').map(Number);
    const [a0, b0] = await view();
    const plot = (await page.$('svg.plot'))!;
    const box = (await plot.boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, y, { steps: 3 });
    await page.mouse.up();
    const [a1, b1] = await view();
    expect(a1).toBeGreaterThan(a0);
    expect(b1 - a1).toBeLessThan((b0 - a0) / 10);
    // the plots' bands are now the faults that overlap the window; the diagram holds the window's rows
    const t0 = data.plots.t0;
    const overlapping = bands.filter((b) => b.end - t0 >= a1 && b.start - t0 <= b1).map((b) => b.label);
    expect(overlapping.length).toBeGreaterThan(0);
    expect(overlapping.length).toBeLessThan(bands.length);
    for (const labels of await plotBands()) expect(labels).toEqual(overlapping);
    const expectedRows = run.times.filter((t) => t - t0 >= a1 && t - t0 <= b1).length;
    expect(await inWindow()).toBe(expectedRows);
    expect(await shown()).toBe(Math.min(expectedRows, MAX_DIAGRAM_ROWS));
    // and back to the whole run
    await page.click('#timeAll');
    expect(await view()).toEqual([a0, b0]);
    expect(await inWindow()).toBe(run.records);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the live page of mirosnet watch shows a chart change state', async () => {
    const traceKey = generateKey();
    const [first] = brokers();
    let watch: Watch | undefined;
    try {
      watch = await startWatch({ port: 0, host: first.host, rabbitUser: 'peter', rabbitPassword: 'rabbit', traceKey, networks: ['trace'] });
      const node = makeNode('watched', 1, { snoopTraceEncryptionKey: traceKey });
      node.chart.enableSnoopTraceNoColor();
      const { page, errors } = await openPage(browser, watch.url);
      const { idle } = await import('./net-helpers.ts');
      await node.chart.startAt(idle);
      const card = `[data-chart="${node.chart.name}"] .state`;
      await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'idle', { timeout: 20_000 }, card);
      const { Event } = await import('../../runtime/index.ts');
      node.chart.postFifo(new Event('GO'));
      await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'busy', { timeout: 20_000 }, card);
      expect(await page.$eval(`[data-chart="${node.chart.name}"] pre`, (p) => p.textContent)).toMatch(/e->GO\(\) idle->busy/);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await watch?.stop();
    }
  });
});
