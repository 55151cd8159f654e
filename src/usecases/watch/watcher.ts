/**
 * The watcher (docs/design.md, "Triggers"): reconciles a domain when libvirt reports a change to
 * it (device added or removed, nova's metadata rewritten, defined, started) or when its cache
 * file changes. Every domain is reconciled once whenever the event stream (re)connects: at
 * startup, and after a daemon restart, since events were missed meanwhile.
 *
 * The pieces: the event source (./event-source), the cache directory source (./cache-source),
 * the names-to-UUIDs map (./domain-names), and the jobs (./jobs), sharing one virsh session.
 */
import { messageOf } from '../../errors';
import { CacheStore } from '../../adapters/cache-store';
import type { VirshEvent } from '../../adapters/virsh/event-line';
import { openLibvirt, type LibvirtClient } from '../../adapters/libvirt/open';
import { watchCacheSource } from './cache-source';
import { DomainNames } from './domain-names';
import { superviseEvents } from './event-source';
import type { AddressHistory } from '../history/address-history';
import { Jobs, show } from './jobs';
import type { Outcome } from '../reconcile/outcome';
import { eventReason } from './triggers';
import type { WatchMetrics } from './watch-metrics';

export interface WatchOptions {
  /** undefined: virsh's own default. */
  readonly uri: string | undefined;
  /** How the libvirt calls travel (adapters/libvirt/open.ts); the events always come from `virsh event`. */
  readonly client: LibvirtClient;
  readonly stateDir: string;
  readonly cacheDir: string;
  /** One line per action, no timestamp (journald adds it). */
  readonly log: (line: string) => void;
  /** Also log every event acted on and every reconcile that found nothing to do. */
  readonly verbose: boolean;
  /** Aborting it stops the watcher; runWatch then resolves. */
  readonly signal: AbortSignal;
  readonly tuning?: Partial<Tuning>;
  /** Counts the watcher's work, for its /metrics endpoint. */
  readonly metrics?: WatchMetrics;
  /** Where the address changes the watcher sees are recorded. */
  readonly history?: AddressHistory;
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

/** Runs until `options.signal` aborts, then stops cleanly and resolves. Throws when virsh cannot run at all, or on a bug. */
export async function runWatch(options: WatchOptions): Promise<void> {
  const tuning = { ...DEFAULT_TUNING, ...options.tuning };
  const { log, verbose } = options;
  // The watcher's own stop: the caller's signal, or a bug in a job.
  const stop = new AbortController();
  const onAbort = () => {
    stop.abort();
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  if (options.signal.aborted) stop.abort();
  let bug: unknown;

  const libvirt = await openLibvirt({ uri: options.uri, client: options.client });
  const names = new DomainNames(libvirt);
  const jobs = new Jobs({
    libvirt,
    cache: new CacheStore(options.cacheDir),
    stateDir: options.stateDir,
    log,
    verbose,
    signal: stop.signal,
    ...(options.history ? { history: options.history } : {}),
    debounceMs: tuning.debounceMs,
    maxDelayMs: tuning.maxDelayMs,
    lockSliceMs: tuning.lockSliceMs,
    onBug: (err) => {
      bug ??= err;
      stop.abort();
    },
    ...(options.metrics ? { onOutcome: (o: Outcome) => options.metrics?.reconciled(o) } : {}),
  });

  const onEvent = (e: VirshEvent): void => {
    const reason = eventReason(e);
    if (!reason || stop.signal.aborted) return;
    if (verbose) log(`${show(e.domain)}: event ${e.type}${e.detail ? ` ${e.detail}` : ''}`);
    names.uuidOf(e.domain, { fresh: reason === 'defined' }).then(
      (uuid) => {
        if (uuid) jobs.trigger(uuid, reason);
        else if (verbose) log(`${show(e.domain)}: no such domain any more (${reason})`);
      },
      (err: unknown) => {
        log(`${show(e.domain)}: cannot look the domain up (${reason}): ${messageOf(err)}`);
      },
    );
  };

  log(`watching ${options.uri ?? 'the default libvirt URI'}, cache ${options.cacheDir}`);
  watchCacheSource({
    dir: options.cacheDir,
    onChange: (uuid) => {
      jobs.trigger(uuid, 'cache');
    },
    onRestarted: () => {
      jobs.all('cache watch restarted');
    },
    log,
    retryMs: tuning.cacheRetryMs,
    signal: stop.signal,
  });
  try {
    await superviseEvents({
      uri: options.uri,
      onEvent,
      onConnected: (first) => {
        options.metrics?.connected();
        if (!first) log('event stream reconnected');
        jobs.all(first ? 'startup' : 'reconnected');
      },
      log,
      signal: stop.signal,
      settleMs: tuning.settleMs,
      backoffMinMs: tuning.backoffMinMs,
      backoffMaxMs: tuning.backoffMaxMs,
    });
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    stop.abort();
    await jobs.stop();
    await libvirt.close().catch(() => undefined);
    log('stopped');
  }
  if (bug !== undefined) throw bug instanceof Error ? bug : new Error(messageOf(bug));
}
