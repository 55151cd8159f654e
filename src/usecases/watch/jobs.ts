/**
 * The watcher's work: reconcile jobs keyed by domain UUID (or every domain), debounced so that a
 * burst of triggers for one domain (device-added, nova's metadata-change, a cache change) makes
 * one reconcile after things went quiet, run one at a time through one libvirt connection, each under
 * the run lock (taken in slices, so the timer's run gets its turn and a stop is never held up).
 * Every outcome that changed something, and every error, is one log line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFoundError, isExpectedFailure, messageOf, quote } from '../../errors';
import type { Uuid } from '../../core/model';
import type { CacheStore } from '../../adapters/cache-store';
import { acquireRunLock, LockBusyError, type RunLock } from '../../adapters/run-lock';
import { TransientDomains, resolveDomain, type DomainRef, type Libvirt } from '../../adapters/libvirt/libvirt';
import type { AddressHistory, HistoryRun } from '../history/address-history';
import { reconcileDomains, reconcileOrError } from '../reconcile/reconcile-run';
import { summaryLine, type Outcome } from '../reconcile/outcome';
import { Debouncer } from './debouncer';
import { FlapGuard } from './flap-guard';
import { SerialQueue } from './serial-queue';
import type { Reason } from './triggers';

/** Why a job runs: a trigger's reason, or a run over every domain. */
export type Why = Reason | 'startup' | 'reconnected' | 'cache watch restarted';
const ALL = 'all';
type Target = Uuid | typeof ALL;

export interface JobsOptions {
  readonly libvirt: Libvirt;
  readonly cache: CacheStore;
  readonly stateDir: string;
  readonly log: (line: string) => void;
  readonly verbose: boolean;
  readonly signal: AbortSignal;
  readonly debounceMs: number;
  readonly maxDelayMs: number;
  readonly lockSliceMs: number;
  /** A bug in a job (not an expected failure): the watcher stops with it. */
  readonly onBug: (err: unknown) => void;
  /** Every domain's outcome (the watcher's metrics). */
  readonly onOutcome?: (o: Outcome) => void;
  /** Where each job records the address changes it sees. */
  readonly history?: AddressHistory;
}

export class Jobs {
  private readonly queue: SerialQueue<Target, Why>;
  private readonly debouncer: Debouncer<Uuid, Reason>;
  private readonly flaps = new FlapGuard<Uuid>({ maxRepairs: 5, windowMs: 60_000, holdMs: 300_000, now: () => Date.now() });

  constructor(private readonly options: JobsOptions) {
    this.queue = new SerialQueue((target, reasons) => this.run(target, reasons), options.onBug);
    this.debouncer = new Debouncer({
      quietMs: options.debounceMs,
      maxWaitMs: Math.max(options.maxDelayMs, options.debounceMs),
      fire: (uuid, reasons) => {
        this.queue.add(uuid, reasons);
      },
    });
  }

  /** A trigger for one domain: reconciled once it has been quiet for the debounce time. */
  trigger(uuid: Uuid, reason: Reason): void {
    if (!this.options.signal.aborted) this.debouncer.trigger(uuid, reason);
  }

  /** Every domain, now: what waits for one domain is covered by it. */
  all(why: Why): void {
    this.queue.clearWaiting();
    this.queue.add(ALL, [why]);
  }

  /** Drops what waits and resolves once the job in progress has finished. */
  async stop(): Promise<void> {
    this.debouncer.cancel();
    await this.queue.stop();
  }

  /** One job: never throws for an expected failure; logs one line per domain acted on. */
  private async run(target: Target, reasons: readonly Why[]): Promise<void> {
    const label = reasons.join(', ');
    let lock: RunLock | undefined;
    let history: HistoryRun | undefined;
    let present: string[] | undefined;
    try {
      lock = await this.lock();
      if (!lock) return;
      history = this.options.history?.begin();
      const { libvirt } = this.options;
      const ctx = { libvirt, transients: new TransientDomains(libvirt), cache: this.options.cache, dryRun: false };
      if (target === ALL) {
        const started = Date.now();
        const refs = await libvirt.listDomains();
        const outcomes = await reconcileDomains(ctx, refs, (_done, _total, o) => history?.observe(o));
        present = refs.map((r) => r.uuid);
        for (const o of outcomes) this.report(o, label);
        this.options.log(`all domains reconciled (${label}): ${summaryLine(outcomes, (Date.now() - started) / 1000)}`);
        return;
      }
      const ref = await this.resolve(libvirt, target, label);
      if (!ref) {
        // Undefined (or never defined: then nothing was recorded and nothing is).
        history?.gone(target);
        return;
      }
      const onlyMetadata = reasons.every((r) => r === 'metadata-change');
      if (onlyMetadata && this.flaps.held(ref.uuid)) {
        if (this.options.verbose) this.options.log(`${show(ref.name)}: metadata change ignored (repair war hold)`);
        return;
      }
      const outcome = await reconcileOrError(ctx, ref);
      history?.observe(outcome);
      this.report(outcome, label);
      if (outcome.kind === 'repaired' && onlyMetadata && this.flaps.repaired(ref.uuid)) {
        this.options.log(`${show(ref.name)}: repaired again and again after metadata changes: another writer? ignoring its metadata changes for a while`);
      }
    } catch (err) {
      if (!isExpectedFailure(err)) throw err;
      // Stopping (a SIGTERM reaches virsh too): what the stop cut short is no error.
      if (this.options.signal.aborted) return;
      // The connection (or virsh) is opened again by the next call if it ended: nothing to reset here.
      this.options.log(`${target === ALL ? 'all domains' : target}: error (${label}): ${messageOf(err)}`);
    } finally {
      history?.finish(present);
      await lock?.release();
    }
  }

  /** The run lock, waited for in slices so a stop is not held up by a long run of the timer. */
  private async lock(): Promise<RunLock | undefined> {
    for (;;) {
      if (this.options.signal.aborted) return undefined;
      try {
        return await acquireRunLock(this.options.stateDir, { waitMs: this.options.lockSliceMs });
      } catch (err) {
        if (!(err instanceof LockBusyError)) throw err;
        // flock --wait already waited the slice; a failing lock file must not spin.
        await sleep(0);
      }
    }
  }

  /** The domain of this UUID, or undefined (logged in verbose mode) when there is none (any more). */
  private async resolve(libvirt: Libvirt, uuid: Uuid, label: string): Promise<DomainRef | undefined> {
    try {
      return await resolveDomain(libvirt, uuid);
    } catch (err) {
      // A cache file may come before its domain is defined, an event after it was undefined.
      if (err instanceof NotFoundError) {
        if (this.options.verbose) this.options.log(`${uuid}: no such domain (${label})`);
        return undefined;
      }
      throw err;
    }
  }

  private report(o: Outcome, label: string): void {
    if (this.options.signal.aborted && o.kind === 'error') return;
    this.options.onOutcome?.(o);
    if (o.kind === 'repaired') this.options.log(`${show(o.domain)}: repaired (${label})`);
    else if (o.kind === 'error') this.options.log(`${show(o.domain)}: error (${label}): ${o.reason}`);
    else if (this.options.verbose) this.options.log(`${show(o.domain)}: ${o.kind} (${label})`);
  }
}

/** A domain name as is when it is plain, quoted otherwise (spaces, quotes, control characters). */
export function show(name: string): string {
  return /^[\w.:@+-]+$/.test(name) ? name : quote(name);
}
