import { Event } from '../runtime/hsm/index.ts';
import { COMPREHENSIVE_EVENTS, comprehensiveChart, readAll, readSink } from './engine.ts';
const events = COMPREHENSIVE_EVENTS.map((s) => new Event(s));
const n = events.length;
const on = comprehensiveChart(true);
const off = comprehensiveChart(false);
const N = Number(process.argv[2] ?? 2_000_000);
for (let r = 0; r < 3; r++) {
  let t0 = performance.now();
  for (let i = 0; i < N; i++) off.dispatch(events[i % n]!);
  const offMs = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < N; i++) { on.dispatch(events[i % n]!); if (i % 16 === 15) readAll(on); }
  const onMs = performance.now() - t0;
  console.log(`off ${(N / offMs * 1000 / 1e6).toFixed(2)}M/s on ${(N / onMs * 1000 / 1e6).toFixed(2)}M/s ratio ${(offMs / onMs).toFixed(3)}`);
}
console.log(readSink.lines);
