/**
 * Per-key trailing debounce: an attach fires device-added, then nova's metadata-change, then
 * maybe a cache change, within a few hundred milliseconds; the domain is reconciled once, after
 * things went quiet for `quietMs`, with every reason collected. `maxWaitMs` bounds the delay so a
 * key that never goes quiet still fires. Timers are injected so tests drive a fake clock.
 */

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface Pending<R> {
  readonly firstAt: number;
  readonly reasons: R[];
  handle: unknown;
}

export class Debouncer<K, R> {
  private readonly pending = new Map<K, Pending<R>>();

  constructor(
    private readonly options: {
      readonly quietMs: number;
      readonly maxWaitMs: number;
      readonly fire: (key: K, reasons: readonly R[]) => void;
      readonly timers?: Timers;
    },
  ) {}

  private get timers(): Timers {
    return this.options.timers ?? realTimers;
  }

  trigger(key: K, reason: R): void {
    const now = this.timers.now();
    const p = this.pending.get(key);
    if (p) {
      if (!p.reasons.includes(reason)) p.reasons.push(reason);
      this.timers.clearTimeout(p.handle);
    }
    const entry = p ?? { firstAt: now, reasons: [reason], handle: undefined };
    const delay = Math.max(0, Math.min(this.options.quietMs, entry.firstAt + this.options.maxWaitMs - now));
    entry.handle = this.timers.setTimeout(() => {
      this.pending.delete(key);
      this.options.fire(key, entry.reasons);
    }, delay);
    this.pending.set(key, entry);
  }

  /** How many keys wait to fire. */
  get size(): number {
    return this.pending.size;
  }

  /** Drops everything pending (shutdown): nothing fires afterwards. */
  cancel(): void {
    for (const p of this.pending.values()) this.timers.clearTimeout(p.handle);
    this.pending.clear();
  }
}
