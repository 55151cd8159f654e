/**
 * The watcher (DESIGN §3): reconciles a domain when libvirt reports a change to it (device added or
 * removed, nova's metadata rewritten, defined, started) or when its cache file changes, debounced
 * per domain, one reconcile at a time, holding the run lock only around each one (the timer's run
 * must still get its turn). Every domain is reconciled once whenever the event stream (re)connects:
 * at startup, and after a daemon restart, since events were missed meanwhile.
 *
 * Pieces: one `virsh event` process (adapters/virsh/events), an fs.watch on the cache directory,
 * a Debouncer keyed by what the trigger names (the domain's name for an event, its UUID for a
 * cache file), a SerialQueue of reconciles, and one command VirshSession.
 */
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, quote, SystemError } from '../errors';
import { CacheStore } from '../adapters/cache-store';
import { acquireRunLock, LockBusyError, type RunLock } from '../adapters/run-lock';
import { ensurePrivateDir } from '../adapters/state-dir';
import { listDomains, resolveDomain, type DomainRef } from '../adapters/virsh/domains';
import { openEventStream, type EventStream, type EventStreamEnd } from '../adapters/virsh/events';
import type { VirshEvent } from '../adapters/virsh/event-line';
import { VirshSession } from '../adapters/virsh/session';
import { reconcileDomain } from '../reconcile/reconcile-domain';
import { reconcileDomains } from '../reconcile/run-reconcile';
import { summaryLine } from '../reconcile/report';
import type { Outcome } from '../reconcile/outcome';
import { Debouncer } from './debouncer';
import { FlapGuard } from './flap-guard';
import { SerialQueue } from './serial-queue';
import { watchCacheDir, type CacheWatch } from './cache-watch';
import { eventReason, type Reason } from './triggers';

export interface WatchOptions {
  /** undefined: virsh's own default. */
  readonly uri: string | undefined;
  readonly stateDir: string;
  readonly cacheDir: string;
  /** One line per action, no timestamp (journald adds it). */
  readonly log: (line: string) => void;
  /** Also log every event acted on and every reconcile that found nothing to do. */
  readonly verbose: boolean;
  /** Aborting it stops the watcher; runWatch then resolves. */
  readonly signal: AbortSignal;
  readonly tuning?: Partial<Tuning>;
}

export interface Tuning {
  /** Quiet time after a domain's last trigger before it is reconciled. */
  readonly debounceMs: number;
  /** A domain that never goes quiet is reconciled at least this often. */
  readonly maxDelayMs: number;
  /** An event stream alive this long has connected: then it counts, and every domain is reconciled. */
  readonly settleMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** How long one reconcile waits for another run holding the lock before trying again. */
  readonly lockSliceMs: number;
  /** How soon a lost or failed cache directory watch is tried again. */
  readonly cacheRetryMs: number;
}

const DEFAULT_TUNING: Tuning = {
  debounceMs: 250,
  maxDelayMs: 2000,
  settleMs: 500,
  backoffMinMs: 1000,
  backoffMaxMs: 30_000,
  lockSliceMs: 1000,
  cacheRetryMs: 5000,
};

/** What a reconcile job is for: every domain, or the one a trigger named (name or UUID). */
const ALL = Symbol('all domains');
type Target = typeof ALL | string;
type Why = Reason | 'startup' | 'reconnected' | 'cache watch restarted';

/** Runs until `options.signal` aborts, then stops cleanly and resolves. Throws only if virsh cannot run at all. */
export async function runWatch(options: WatchOptions): Promise<void> {
  const watcher = new Watcher(options);
  await watcher.run();
}

class Watcher {
  private readonly tuning: Tuning;
  private readonly cache: CacheStore;
  private readonly queue: SerialQueue<Target, Why>;
  private readonly debouncer: Debouncer<string, Reason>;
  private readonly flaps = new FlapGuard<string>({ maxRepairs: 5, windowMs: 60_000, holdMs: 300_000, now: () => Date.now() });
  private session: VirshSession | undefined;
  private stream: EventStream | undefined;
  private cacheWatch: CacheWatch | undefined;
  private connects = 0;
  /** Settles when the signal aborts: one listener for the watcher's lifetime, not one per wait. */
  private readonly stopped: Promise<void>;

  constructor(private readonly options: WatchOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    const signal = options.signal;
    this.stopped = signal.aborted
      ? Promise.resolve()
      : new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            resolve();
          });
        });
    this.cache = new CacheStore(options.cacheDir);
    this.queue = new SerialQueue((target, reasons) => this.reconcile(target, reasons));
    this.debouncer = new Debouncer({
      quietMs: this.tuning.debounceMs,
      maxWaitMs: Math.max(this.tuning.maxDelayMs, this.tuning.debounceMs),
      fire: (key, reasons) => {
        this.queue.add(key, reasons);
      },
    });
  }

  private stopping(): boolean {
    return this.options.signal.aborted;
  }

  private log(line: string): void {
    this.options.log(line);
  }

  async run(): Promise<void> {
    this.log(`watching ${this.options.uri ?? 'the default libvirt URI'}, cache ${this.options.cacheDir}`);
    this.watchCache();
    try {
      await this.superviseEvents();
    } finally {
      await this.shutdown();
    }
  }

  // ------------------------------------------------------------------------------ event stream

  /**
   * Keeps one event stream open, reconnecting with backoff, until the signal aborts. virsh says
   * nothing once it has connected; a stream still alive after `settleMs` has (one that cannot
   * connect exits at once), and only then does the backoff start over.
   */
  private async superviseEvents(): Promise<void> {
    let backoff = this.tuning.backoffMinMs;
    while (!this.stopping()) {
      const stream = openEventStream({
        uri: this.options.uri,
        onEvent: (e) => {
          this.onEvent(e);
        },
      });
      if (stream.pid === undefined) {
        const end = await stream.ended;
        throw new SystemError(`cannot run virsh for the event stream: ${end.message}`);
      }
      this.stream = stream;
      const early = await Promise.race([stream.ended, this.delay(this.tuning.settleMs).then(() => undefined)]);
      let what = 'cannot open the event stream';
      if (early === undefined && !this.stopping()) {
        backoff = this.tuning.backoffMinMs;
        what = 'event stream ended';
        this.connected();
        await Promise.race([stream.ended, this.stopped]);
      }
      if (this.stopping()) break;
      this.stream = undefined;
      this.log(`${what} (${describeEnd(await stream.ended)}); reconnecting in ${formatSeconds(backoff)}`);
      await this.delay(backoff);
      backoff = Math.min(backoff * 2, this.tuning.backoffMaxMs);
    }
  }

  /** The stream is up: every domain once, since events may have been missed until now. */
  private connected(): void {
    const why: Why = this.connects++ === 0 ? 'startup' : 'reconnected';
    if (why === 'reconnected') this.log('event stream reconnected');
    this.queue.clearWaiting();
    this.queue.add(ALL, [why]);
  }

  private onEvent(e: VirshEvent): void {
    if (this.stopping()) return;
    const reason = eventReason(e);
    if (!reason) return;
    if (this.options.verbose) this.log(`${show(e.domain)}: event ${e.type}${e.detail ? ` ${e.detail}` : ''}`);
    this.debouncer.trigger(e.domain, reason);
  }

  // ------------------------------------------------------------------------------ cache directory

  /** The cache directory watched: a changed `<uuid>.json` means that domain. */
  private watchCache(): void {
    const dir = this.options.cacheDir;
    try {
      // On a fresh host nothing was put yet: create the directories as `cache put` would (0700).
      ensurePrivateDir(dirname(dir));
      ensurePrivateDir(dir);
      this.cacheWatch = watchCacheDir(dir, {
        onChange: (uuid) => {
          if (!this.stopping()) this.debouncer.trigger(uuid, 'cache');
        },
        onLost: (why) => {
          this.retryCacheWatch(`lost the cache directory watch: ${why}`);
        },
      });
    } catch (err) {
      this.retryCacheWatch(`cannot watch the cache directory ${dir}: ${message(err)}`);
    }
  }

  private retryCacheWatch(problem: string): void {
    this.cacheWatch = undefined;
    if (this.stopping()) return;
    const retryMs = this.tuning.cacheRetryMs;
    this.log(`${problem}; retrying in ${formatSeconds(retryMs)}`);
    void this.delay(retryMs).then(() => {
      if (this.stopping()) return;
      this.watchCache();
      // Changes made while nobody watched are caught up by a run over everything.
      if (this.cacheWatch) this.queue.add(ALL, ['cache watch restarted']);
    });
  }

  // ------------------------------------------------------------------------------ reconcile

  /** One job of the queue: never throws, logs one line per domain acted on. */
  private async reconcile(target: Target, reasons: readonly Why[]): Promise<void> {
    const label = reasons.join(', ');
    let lock: RunLock | undefined;
    try {
      lock = await this.lock();
      if (!lock) return;
      const virsh = this.virsh();
      const ctx = { virsh, cache: this.cache, dryRun: false };
      if (target === ALL) {
        const started = Date.now();
        const outcomes = await reconcileDomains(ctx, await listDomains(virsh));
        for (const o of outcomes) this.report(o, label);
        this.log(`all domains reconciled (${label}): ${summaryLine(outcomes, (Date.now() - started) / 1000)}`);
        return;
      }
      const ref = await this.resolve(virsh, target, label);
      if (!ref) return;
      if (reasons.every((r) => r === 'metadata-change') && this.flaps.held(ref.uuid)) {
        if (this.options.verbose) this.log(`${show(ref.name)}: metadata change ignored (repair war hold)`);
        return;
      }
      let outcome: Outcome;
      try {
        outcome = await reconcileDomain(ctx, ref);
      } catch (err) {
        outcome = { domain: ref.name, uuid: ref.uuid, kind: 'error', reason: message(err) };
      }
      this.report(outcome, label);
      if (outcome.kind === 'repaired' && reasons.every((r) => r === 'metadata-change') && this.flaps.repaired(ref.uuid)) {
        this.log(`${show(ref.name)}: repaired again and again after metadata changes: another writer? ignoring its metadata changes for a while`);
      }
    } catch (err) {
      // The session restarts its virsh by itself if that died: nothing to reset here.
      this.log(`${target === ALL ? 'all domains' : show(target)}: error (${label}): ${message(err)}`);
    } finally {
      await lock?.release();
    }
  }

  /** The run lock, waited for in slices so a stop is not held up by a long run of the timer. */
  private async lock(): Promise<RunLock | undefined> {
    for (;;) {
      if (this.stopping()) return undefined;
      try {
        return await acquireRunLock(this.options.stateDir, { waitMs: this.tuning.lockSliceMs });
      } catch (err) {
        if (!isLockBusy(err)) throw err;
      }
    }
  }

  /** One session for the watcher's life: it restarts its virsh and reconnects by itself. */
  private virsh(): VirshSession {
    this.session ??= new VirshSession({ uri: this.options.uri });
    return this.session;
  }

  /** The domain a trigger named, or undefined (logged in verbose mode) when there is none (any more). */
  private async resolve(virsh: VirshSession, nameOrUuid: string, label: string): Promise<DomainRef | undefined> {
    try {
      return await resolveDomain(virsh, nameOrUuid);
    } catch (err) {
      // A cache file may come before its domain is defined, an event after it was undefined.
      if (err instanceof InputError) {
        if (this.options.verbose) this.log(`${show(nameOrUuid)}: no such domain (${label})`);
        return undefined;
      }
      throw err;
    }
  }

  private report(o: Outcome, label: string): void {
    if (o.kind === 'repaired') this.log(`${show(o.domain)}: repaired (${label})`);
    else if (o.kind === 'error') this.log(`${show(o.domain)}: error (${label}): ${o.reason}`);
    else if (this.options.verbose) this.log(`${show(o.domain)}: ${o.kind} (${label})`);
  }

  // ------------------------------------------------------------------------------ stop

  private async shutdown(): Promise<void> {
    this.debouncer.cancel();
    this.cacheWatch?.close();
    this.cacheWatch = undefined;
    const stream = this.stream;
    this.stream = undefined;
    await stream?.stop();
    await this.queue.stop();
    await this.session?.close().catch(() => undefined);
    this.session = undefined;
    this.log('stopped');
  }

  /** Resolves after `ms`, or at once when the watcher stops. */
  private async delay(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.options.signal }).catch(() => undefined);
  }
}

function isLockBusy(err: unknown): boolean {
  return err instanceof LockBusyError;
}

function describeEnd(end: EventStreamEnd): string {
  const how = end.signal ? `signal ${end.signal}` : `status ${end.exitCode ?? '?'}`;
  return end.message ? `${how}: ${end.message}` : how;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** A domain name as is when it is plain, quoted otherwise (spaces, quotes, control characters). */
function show(name: string): string {
  return /^[\w.:@+-]+$/.test(name) ? name : quote(name);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
