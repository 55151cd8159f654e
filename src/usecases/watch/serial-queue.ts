/**
 * The watcher's reconciles run one at a time (one virsh session, one run lock); a key queued again
 * while it waits runs once, with the reasons merged. A job queued while its key runs runs again
 * afterwards: what triggered it may have happened after the running job read the domain.
 */
export class SerialQueue<K, R> {
  private readonly waiting = new Map<K, R[]>();
  private running: Promise<void> | undefined;
  private stopped = false;

  /** `run` reports its own expected failures; anything it throws goes to `onError` and the queue goes on. */
  constructor(
    private readonly run: (key: K, reasons: readonly R[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(key: K, reasons: readonly R[]): void {
    if (this.stopped) return;
    const merged = this.waiting.get(key) ?? [];
    for (const r of reasons) if (!merged.includes(r)) merged.push(r);
    this.waiting.set(key, merged);
    this.running ??= this.drain();
  }

  /** Drops the jobs that wait (not the one running): for a run over everything that covers them. */
  clearWaiting(): void {
    this.waiting.clear();
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Takes no more work, drops what waits, and resolves once the job in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.clear();
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.first(); next && !this.stopped; next = this.first()) {
        this.waiting.delete(next[0]);
        await this.run(next[0], next[1]).catch(this.onError);
      }
    } finally {
      this.running = undefined;
    }
  }

  private first(): [K, R[]] | undefined {
    return this.waiting.entries().next().value;
  }
}
