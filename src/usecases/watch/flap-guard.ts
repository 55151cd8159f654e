/**
 * A safety net against a write war. Our own write raises a metadata-change event and the next
 * reconcile finds the domain in sync, so normally it converges. But if another writer keeps putting
 * back different ports (a second tool, an old version of this one), each side's write would
 * trigger the other forever; a reconcile may even see the domain in sync between two rounds, so
 * only the count of repairs says so. A domain repaired more than `maxRepairs` times within
 * `windowMs` for metadata changes alone (nova's own write after an attach comes with device-added) is left alone on metadata changes for `holdMs` (the other triggers and the
 * timer still reach it).
 */
export class FlapGuard<K> {
  private readonly repairs = new Map<K, number[]>();
  private readonly heldUntil = new Map<K, number>();

  constructor(
    private readonly options: { readonly maxRepairs: number; readonly windowMs: number; readonly holdMs: number; readonly now: () => number },
  ) {}

  /** Whether metadata changes on this key are being ignored now. */
  held(key: K): boolean {
    const until = this.heldUntil.get(key);
    if (until === undefined) return false;
    if (this.options.now() < until) return true;
    this.heldUntil.delete(key);
    this.repairs.delete(key);
    return false;
  }

  /** Records a repair made because of a metadata change; true when this one starts a hold. */
  repaired(key: K): boolean {
    const now = this.options.now();
    const recent = (this.repairs.get(key) ?? []).filter((t) => now - t < this.options.windowMs);
    recent.push(now);
    this.repairs.set(key, recent);
    if (recent.length <= this.options.maxRepairs) return false;
    this.heldUntil.set(key, now + this.options.holdMs);
    return true;
  }
}
