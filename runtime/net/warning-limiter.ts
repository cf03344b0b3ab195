// Repeated warnings, rate-limited and counted: the first of a kind (a key: e.g. overflow at
// one broker) is written at once, the next ones at most once per interval, each saying how
// many were held back since. Bounded: beyond `maxKeys` kinds the oldest is forgotten (counted).
import { realEnvironment } from '../env/environment.ts';

export interface WarningCounts {
  /** Warnings held back by the rate limit. */
  suppressed: number;
  /** Kinds forgotten because there were more than maxKeys. */
  shedKeys: number;
}

export class WarningLimiter {
  private readonly keys = new Map<string, { last: number; held: number }>();
  private readonly once = new Set<string>();
  private readonly counts: WarningCounts = { suppressed: 0, shedKeys: 0 };

  constructor(
    private readonly emit: (message: string) => void,
    private readonly intervalMs = 30_000,
    private readonly maxKeys = 1000,
    private readonly now: () => number = realEnvironment.now,
  ) {}

  get stats(): WarningCounts {
    return { ...this.counts };
  }

  /** Writes `message` unless a warning of `key` was written less than intervalMs ago (then counts it); true if written. */
  warn(key: string, message: string): boolean {
    const t = this.now();
    const seen = this.keys.get(key);
    if (seen && t - seen.last < this.intervalMs) {
      seen.held++;
      this.counts.suppressed++;
      return false;
    }
    const held = seen?.held ?? 0;
    this.remember(key, { last: t, held: 0 });
    this.emit(held > 0 ? `${message} (${held} more like it in the last ${Math.round((t - seen!.last) / 1000)} s)` : message);
    return true;
  }

  /** Writes `message` the first time `key` is seen, never again (counted); true if written. */
  first(key: string, message: string): boolean {
    if (this.once.has(key)) {
      this.counts.suppressed++;
      return false;
    }
    if (this.once.size >= this.maxKeys) {
      this.once.delete(this.once.values().next().value!);
      this.counts.shedKeys++;
    }
    this.once.add(key);
    this.emit(message);
    return true;
  }

  private remember(key: string, entry: { last: number; held: number }): void {
    this.keys.delete(key);
    if (this.keys.size >= this.maxKeys) {
      this.keys.delete(this.keys.keys().next().value!);
      this.counts.shedKeys++;
    }
    this.keys.set(key, entry);
  }
}
