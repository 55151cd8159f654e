/**
 * A reconcile run: every domain (or the ones named) through one libvirt connection, under the run
 * lock, one domain's failure never stopping the others. The one policy for failures: what the
 * tool expects (ours, a system call's errno) becomes that domain's `error` outcome; anything else
 * is a bug and propagates to runMain.
 */
import { isExpectedFailure, messageOf } from '../../errors';
import { CacheStore } from '../../adapters/cache-store';
import { acquireRunLock } from '../../adapters/run-lock';
import type { Settings } from '../../adapters/settings';
import { TransientDomains, resolveDomain, type DomainRef, type Libvirt } from '../../adapters/libvirt/libvirt';
import { openLibvirt } from '../../adapters/libvirt/open';
import { AddressHistory } from '../history/address-history';
import { readsXmlFiles } from '../../adapters/domain-inventory';
import { DecisionMemo } from '../../adapters/decision-memo';
import { matchListing, readDomainFiles, type CurrentFiles, type DefinitionsFromFiles } from '../../adapters/current-domain-files';
import { decide, decideWithoutWrite, planOf, reconcileDomain, type Plan, type ReconcileContext, type WriteDecision } from './reconcile-domain';
import type { Outcome } from './outcome';

export type Progress = (done: number, total: number, last: Outcome) => void;

export interface RunRequest {
  readonly settings: Settings;
  /** Names or UUIDs; none: every domain. */
  readonly domains: readonly string[];
  readonly dryRun: boolean;
  /** How long to wait for another run holding the lock. */
  readonly lockWaitMs: number;
  readonly progress?: Progress;
  /** A warning for the operator that does not fail the run (the address history not recorded). */
  readonly warn?: (line: string) => void;
}

export interface RunReport {
  readonly outcomes: readonly Outcome[];
  /** Cache files whose instance is not a domain here (reported, never acted on); none when domains were named. */
  readonly orphanCaches: readonly string[];
  readonly durationSeconds: number;
  /** Calls sent to libvirt (RPC calls or virsh commands), the listing included. */
  readonly libvirtCommands: number;
  /** Domains decided from libvirt's own files, without a libvirt call of their own. */
  readonly decidedFromFiles: number;
  /** Of those, the domains whose files were the very files of an earlier in-sync decision: not read at all. */
  readonly rememberedInSync?: number;
  /** Why libvirt's files were not used for this run, when they could have been. */
  readonly filesNotUsed?: string | undefined;
  /** When the oldest cache file this run read was written (seconds since the epoch); none read: undefined. */
  readonly oldestCacheWrite?: number | undefined;
}

export async function reconcileRun(req: RunRequest): Promise<RunReport> {
  const started = Date.now();
  const { settings } = req;
  // Connects on its first call, under the lock.
  const libvirt = await openLibvirt({ uri: settings.uri, client: settings.libvirtClient });
  const lock = await acquireRunLock(settings.stateDir, { waitMs: req.lockWaitMs });
  // A dry run (and a check) changes nothing, the history included.
  const addresses = req.dryRun ? undefined : new AddressHistory({ stateDir: settings.stateDir, ini: settings.ini, configFile: settings.configFile, log: req.warn ?? (() => undefined) });
  const history = addresses?.begin();
  let present: string[] | undefined;
  let memo: DecisionMemo | undefined;
  let listed = '';
  let done = false;
  try {
    // The listing first: libvirt (or virsh) answers on the other core while the files are listed.
    const listing = selectDomains(libvirt, req.domains);
    listing.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
    await new Promise((resolve) => setImmediate(resolve));
    const files = filesFor(req);
    const refs = await listing;
    const current = files && matchListing(files, refs);
    const cache = new CacheStore(req.settings.cacheDir, { scope: 'run' });
    const ctx = { libvirt, transients: new TransientDomains(libvirt), cache, dryRun: req.dryRun };
    memo = current?.kind === 'current' ? DecisionMemo.load(settings.stateDir) : undefined;
    const fromFiles: FromFiles | undefined = current?.kind === 'current' ? { current, memo, decided: 0 } : undefined;
    const outcomes = await reconcileDomains(ctx, refs, req.progress, fromFiles);
    // The same domains as the last run, each as that run left it, and the history as that run
    // left it: nothing to observe, nobody gone, nothing to record.
    // Only a run that decides from libvirt's files (never the hook's) keeps a memo to seal.
    if (memo) listed = refs.map((r) => r.uuid).sort().join(' ');
    const quiet = memo?.seal !== undefined && fromFiles?.remembered === refs.length && memo.seal === sealOf(addresses?.fingerprint(), listed);
    if (!quiet) for (const o of outcomes) history?.observe(o);
    // Every domain listed and done: an instance recorded before and not among them is gone.
    if (req.domains.length === 0 && !quiet) present = refs.map((r) => r.uuid);
    done = true;
    return {
      outcomes,
      orphanCaches: req.domains.length ? [] : orphanCaches(cache, refs),
      durationSeconds: (Date.now() - started) / 1000,
      libvirtCommands: libvirt.calls,
      decidedFromFiles: fromFiles?.decided ?? 0,
      rememberedInSync: fromFiles?.remembered ?? 0,
      filesNotUsed: current?.kind === 'not-current' ? current.problem : undefined,
      oldestCacheWrite: oldestOf(cache.writeTimes()),
    };
  } finally {
    history?.finish(present);
    // After the history: the memo is sealed with the history as this run leaves it.
    if (done && memo && !req.dryRun) saveMemo(memo, settings.stateDir, sealOf(addresses?.fingerprint(), listed));
    await libvirt.close();
    await lock.release();
  }
}

/**
 * libvirt's files, read for a run over every domain of the daemon they belong to
 * (readsXmlFiles). A run for named domains (the hook's, after a guest start, while libvirt may
 * still be writing them) asks libvirt.
 */
function filesFor(req: RunRequest) {
  const { settings } = req;
  if (req.domains.length > 0 || !readsXmlFiles(settings)) return undefined;
  return readDomainFiles({ live: settings.liveXmlDir, persistent: settings.persistentXmlDir });
}

/** libvirt's files found current for this run, and how many domains they decided. */
export interface FromFiles {
  readonly current: Extract<CurrentFiles, { kind: 'current' }>;
  /** What earlier runs found in sync, by the identity of the files (adapters/decision-memo.ts). */
  readonly memo?: DecisionMemo | undefined;
  decided: number;
  remembered?: number;
  /** Domains in a row whose reading without a DOM called for a write (see decideFromFiles). */
  leanMisses?: number;
}

/**
 * After this many domains in a row needed a write, the reading without a DOM is skipped until a
 * domain is found in sync again: on a first run it would be read twice for nothing.
 */
const LEAN_MISSES_BEFORE_SKIPPING = 8;

/**
 * Domains whose work waits on libvirt at once. libvirt serves each connection's calls on worker
 * threads, so while one domain's call is in the daemon the next domain's file is read and
 * decided here: a run costs about the larger of the two instead of their sum. Each domain's own
 * calls stay in order (read, then write).
 */
const IN_FLIGHT = 4;

/**
 * Every domain; an expected failure is that domain's outcome. With `files`, a domain whose files
 * are current and say it needs no write is decided from them (no libvirt call); every other
 * one, and every write with its re-read guard, goes through libvirt. Outcomes, and `progress`,
 * come in the listing's order.
 */
export async function reconcileDomains(
  ctx: ReconcileContext,
  refs: readonly DomainRef[],
  progress?: Progress,
  files?: FromFiles,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const done = new Map<number, Outcome>();
  let next = 0;
  let bug: unknown;
  const report = () => {
    for (let o = done.get(outcomes.length); o !== undefined; o = done.get(outcomes.length)) {
      done.delete(outcomes.length);
      outcomes.push(o);
      progress?.(outcomes.length, refs.length, o);
    }
  };
  const worker = async () => {
    while (bug === undefined && next < refs.length) {
      const i = next++;
      const ref = refs[i] as DomainRef;
      try {
        const decided = files && decideFromFiles(ctx, ref, files);
        if (files && decided?.kind === 'outcome') files.decided++;
        done.set(i, decided?.kind === 'outcome' ? decided.outcome : await reconcileOrError(ctx, ref, decided?.planned));
      } catch (err) {
        bug ??= err;
        return;
      }
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, refs.length) }, worker));
  if (bug !== undefined) throw bug instanceof Error ? bug : new Error(messageOf(bug));
  return outcomes;
}

/**
 * What the files call for: an outcome when they need no write (in sync, no cache, not nova, a
 * cache file in error); the writes to make when they do, which libvirt's read before each write
 * must confirm (reconcile-domain.ts). Undefined (ask libvirt) when there are no usable files,
 * and under --dry-run for drift: what libvirt holds then decides, never the file.
 */
function decideFromFiles(
  ctx: ReconcileContext,
  ref: DomainRef,
  files: FromFiles,
): { kind: 'outcome'; outcome: Outcome } | { kind: 'planned'; planned: WriteDecision } | undefined {
  try {
    // Files that are the very files of an earlier in-sync decision: decided as then, unread.
    const paths = files.memo && ctx.cache.usable() ? [...files.current.paths(ref), ctx.cache.path(ref.uuid)] : undefined;
    const facts = `${ref.uuid} ${ref.name} ${ref.active ? String(ref.id) : '-'}`;
    const memo = paths && files.memo?.lookup(ref.uuid, paths, facts);
    const remembered = memo && inSyncOf(memo.value, ref);
    if (remembered) {
      files.remembered = (files.remembered ?? 0) + 1;
      return { kind: 'outcome', outcome: remembered };
    }
    const remember = (outcome: Outcome): Outcome => {
      if (outcome.kind === 'in-sync' && paths && memo?.key !== undefined) files.memo?.record(ref.uuid, memo.key, paths, facts, outcome);
      return outcome;
    };
    // Read without a DOM first: most domains are in sync, and that reading costs a fraction.
    const misses = files.leanMisses ?? 0;
    if (misses < LEAN_MISSES_BEFORE_SKIPPING) {
      const lean = files.current.of(ref, 'lean');
      const outcome = lean && decideWithoutWrite(ctx, ref, plansOf(lean, true));
      if (outcome) {
        files.leanMisses = 0;
        return { kind: 'outcome', outcome: remember(outcome) };
      }
      files.leanMisses = misses + 1;
    }
    const defs = files.current.of(ref, 'dom');
    if (!defs) return undefined;
    const decision = decide(ctx, ref, plansOf(defs, false));
    if (decision.kind === 'write') return { kind: 'planned', planned: decision };
    files.leanMisses = 0;
    if (decision.kind === 'would-repair') return undefined;
    return { kind: 'outcome', outcome: remember(decision) };
  } catch (err) {
    // The state directory refused, say: libvirt's path meets it again and makes it this domain's outcome.
    if (!isExpectedFailure(err)) throw err;
    return undefined;
  }
}

/** A remembered in-sync outcome of this very domain; undefined for anything else. */
function inSyncOf(value: unknown, ref: DomainRef): Outcome | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as { kind?: unknown; uuid?: unknown; domain?: unknown; ports?: unknown };
  return o.kind === 'in-sync' && o.uuid === ref.uuid && o.domain === ref.name && Array.isArray(o.ports) ? (value as Outcome) : undefined;
}

function plansOf(defs: DefinitionsFromFiles, readOnly: boolean): Plan[] {
  const plans: Plan[] = [];
  for (const [definition, domain] of [['live', defs.live], ['persistent', defs.persistent]] as const) {
    const p = domain && planOf(definition, domain, { readOnly });
    if (p) plans.push(definition === 'persistent' && defs.persistentText !== undefined ? { ...p, readFrom: defs.persistentText } : p);
  }
  return plans;
}

export async function reconcileOrError(ctx: ReconcileContext, ref: DomainRef, planned?: WriteDecision): Promise<Outcome> {
  try {
    return await reconcileDomain(ctx, ref, planned);
  } catch (err) {
    if (!isExpectedFailure(err)) throw err;
    return { domain: ref.name, uuid: ref.uuid, kind: 'error', reason: messageOf(err) };
  }
}

async function selectDomains(libvirt: Libvirt, names: readonly string[]): Promise<DomainRef[]> {
  if (names.length === 0) return libvirt.listDomains();
  const refs: DomainRef[] = [];
  for (const name of names) {
    const ref = await resolveDomain(libvirt, name);
    if (!refs.some((r) => r.uuid === ref.uuid)) refs.push(ref);
  }
  return refs;
}

/**
 * What a run leaves for the next one to compare with: the history's files as it left them, and
 * the domains it listed (the sorted UUIDs: any domain gone or new is something to record).
 */
function sealOf(history: string | undefined, listed: string): string | undefined {
  return history === undefined ? undefined : `${history}\n${listed}`;
}

/** A memo that cannot be written costs the next run its time only: nothing to report. */
function saveMemo(memo: DecisionMemo, stateDir: string, seal: string | undefined): void {
  try {
    memo.save(stateDir, seal);
  } catch (err) {
    if (!isExpectedFailure(err)) throw err;
  }
}

function oldestOf(times: readonly Date[]): number | undefined {
  return times.length === 0 ? undefined : Math.min(...times.map((t) => t.getTime())) / 1000;
}

function orphanCaches(cache: CacheStore, refs: readonly DomainRef[]): string[] {
  const known = new Set<string>(refs.map((r) => r.uuid));
  // By name: reading every file again only to learn which instances have one would double the run's reads.
  return cache.uuids().filter((uuid) => !known.has(uuid));
}
