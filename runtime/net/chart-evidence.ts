// A chart's evidence file while it runs (evidence.ts): the records the chart writes itself
// (mesh events while the trace network is off, link states, its snoop lines) and the `stats`
// line every statsIntervalMs.
import type { TimerHandle } from '../env/environment.ts';
import type { LinkMachineState, LinkState } from './link-machine.ts';
import type { ChartContext } from './chart-context.ts';
import { EvidenceLog, evidencePath, type StatsCounters } from './evidence.ts';
import { meshText, snoopRecord, type MeshEventId } from './snoop-record.ts';
import type { Envelope } from './envelope.ts';
import type { NetworkName } from './topology.ts';

/** Default of the statsIntervalMs option: how often the evidence file gets a `stats` line. */
const STATS_INTERVAL_MS = 1000;

export class ChartEvidence {
  private log: EvidenceLog | undefined;
  private statsTimer: TimerHandle | undefined;

  constructor(private readonly ctx: ChartContext) {}

  /** Whether a file is written (else nothing needs to be built for it). */
  get open(): boolean {
    return this.log !== undefined;
  }

  /** Opens the file of the evidenceFile option or $MIROS_EVIDENCE_DIR, if any. */
  start(): void {
    const { ctx } = this;
    const file = evidencePath(ctx.options.evidenceFile, ctx.name);
    if (file) this.log = new EvidenceLog(file, { sender: ctx.name, host: ctx.host, incarnation: ctx.incarnation, iid: ctx.incarnationId }, ctx.env);
  }

  /** A mesh event sent or dispatched, when it is not mirrored onto the trace network. */
  meshRecord(kind: 'mesh-send' | 'mesh-receive', event: MeshEventId): void {
    if (!this.log) return; // no file: nothing to build
    const { ctx } = this;
    const text = meshText(kind, ctx.name, event);
    const head = { sender: ctx.name, host: ctx.host, inc: ctx.incarnation, iid: ctx.incarnationId, seq: null, lamport: ctx.clock.time, ts: ctx.env.now() };
    this.log.write({ network: 'local', ...head, kind, signal: event.signal, from: null, to: null, text, event });
  }

  /** A snoop line this chart published (its envelope before sealing). */
  snoopSent(network: Exclude<NetworkName, 'mesh'>, envelope: Omit<Envelope, 'v'>): void {
    if (!this.log) return;
    const record = snoopRecord(network, { v: 1, ...envelope });
    if (record) this.log.write(record);
  }

  /** A link's change of state. */
  linkState(broker: string, state: LinkState, machine: LinkMachineState, reason: string | undefined, resent: number): void {
    if (!this.log) return;
    const { ctx } = this;
    const head = { network: 'local' as const, sender: ctx.name, host: ctx.host, inc: ctx.incarnation, seq: null, lamport: ctx.clock.time, ts: ctx.env.now() };
    this.log.write({
      ...head,
      kind: 'link',
      signal: null,
      from: null,
      to: null,
      text: ` [link] ${ctx.name}: broker ${broker} ${state}${reason ? ` (${reason})` : ''}`,
      link: { broker, state, machine, ...(reason !== undefined ? { reason } : {}), resent },
    });
  }

  /** The `stats` line every statsIntervalMs (the timer never keeps the process alive). */
  scheduleStats(counters: () => StatsCounters): void {
    const every = this.ctx.options.statsIntervalMs ?? STATS_INTERVAL_MS;
    if (!this.log || every <= 0) return;
    this.statsTimer = this.ctx.env.setInterval(() => this.writeStats(counters()), every);
    this.statsTimer.unref();
  }

  /** Stops the stats timer; true if it ran (the caller then writes the last line). */
  stopStats(): boolean {
    const ran = this.statsTimer !== undefined;
    this.ctx.env.clearInterval(this.statsTimer);
    return ran;
  }

  writeStats(counters: StatsCounters): void {
    this.log?.writeStats(this.ctx.clock.time, counters);
  }

  close(sent: { mesh: number; trace: number; spy: number }): void {
    this.ctx.env.clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    this.log?.close(this.ctx.clock.time, sent);
    this.log = undefined;
  }
}
