/**
 * The watcher's own series, for its `/metrics` endpoint (docs/design.md, "Metrics"): counters
 * since it started, so that `rate()` and `increase()` work across scrapes.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { OUTCOME_KINDS, type Outcome } from '../reconcile/outcome';

export class WatchMetrics {
  readonly registry = new Registry();
  private readonly reconciles = new Counter({
    name: 'nova_ipmeta_watch_reconciles_total',
    help: 'Domains the watcher reconciled since it started, by outcome.',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly connects = new Counter({
    name: 'nova_ipmeta_watch_event_stream_connects_total',
    help: "Times the watcher's libvirt event stream (re)connected since it started.",
    registers: [this.registry],
  });

  constructor(now: () => number = Date.now) {
    new Gauge({ name: 'nova_ipmeta_watch_start_timestamp_seconds', help: 'When the watcher started.', registers: [this.registry] }).set(Math.round(now() / 1000));
    // Every outcome from 0, so that an increase is seen from the first one.
    for (const outcome of OUTCOME_KINDS) this.reconciles.inc({ outcome }, 0);
  }

  reconciled(o: Outcome): void {
    this.reconciles.inc({ outcome: o.kind });
  }

  connected(): void {
    this.connects.inc();
  }
}
