/**
 * A reconcile run: every domain (or the ones named) through one libvirt connection, under the run
 * lock unless it has nothing to write, one domain's failure never stopping the others. The one
 * policy for failures: what the tool expects (ours, a system call's errno) becomes that domain's
 * `error` outcome; anything else is a bug and propagates to runMain.
 */
import type { BigIntStats } from 'node:fs';
import { isExpectedFailure, messageOf } from '../../errors';
import { CacheStore } from '../../adapters/cache-store';
import { acquireRunLock } from '../../adapters/run-lock';
import type { Settings } from '../../adapters/settings';
import { TransientDomains, resolveDomain, type DomainRef, type Libvirt } from '../../adapters/libvirt/libvirt';
import { openLibvirt } from '../../adapters/libvirt/open';
import { AddressHistory } from '../history/address-history';
import { readsXmlFiles } from '../../adapters/domain-inventory';
import { DecisionMemo } from '../../adapters/decision-memo';
import { matchListing, readDomainFiles, type CurrentFiles, type DefinitionsFromFiles, type DomainFiles } from '../../adapters/current-domain-files';
import { daemonKeepsDirs } from '../../adapters/domain-xml-files';
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
  // Connects on its first call: the listing.
  const libvirt = await openLibvirt({ uri: settings.uri, client: settings.libvirtClient });
  try {
    // A dry run (and a check) changes nothing, the history included.
    const addresses = req.dryRun ? undefined : new AddressHistory({ stateDir: settings.stateDir, ini: settings.ini, configFile: settings.configFile, log: req.warn ?? (() => undefined) });
    let survey = await surveyDomains(libvirt, req, addresses);
    // Every domain as an earlier run left it in sync, the history and the listing as that run left
    // them: nothing to write, so no lock to take (docs/design.md, "Reconcile from libvirt's files").
    const remembered = rememberedRun(survey, req.dryRun);
    if (remembered) {
      remembered.forEach((o, i) => req.progress?.(i + 1, remembered.length, o));
      return reportOf(started, req, libvirt, survey, remembered, { decided: remembered.length, remembered: remembered.length });
    }
    const lock = await acquireRunLock(settings.stateDir, { waitMs: req.lockWaitMs });
    try {
      // Another run came first, or recorded history since the listing (a domain defined after it,
      // which this run must not take for gone): the domains again, as they are under the lock.
      if (lock.waited || addresses?.fingerprint() !== survey.history) survey = await surveyDomains(libvirt, req, addresses);
      return await lockedRun(started, libvirt, survey, req, addresses);
    } finally {
      await lock.release();
    }
  } finally {
    await libvirt.close();
  }
}

/** What a run found before deciding anything: the domains, libvirt's files, the memo, the history's fingerprint. */
interface Survey {
  readonly refs: readonly DomainRef[];
  readonly current: CurrentFiles | undefined;
  readonly memo: DecisionMemo | undefined;
  readonly cache: CacheStore;
  /** The history as it stood when the domains were listed (AddressHistory.fingerprint). */
  readonly history: string | undefined;
}

type CurrentNow = Extract<CurrentFiles, { kind: 'current' }>;

async function surveyDomains(libvirt: Libvirt, req: RunRequest, addresses: AddressHistory | undefined): Promise<Survey> {
  const history = addresses?.fingerprint();
  // The listing first: libvirt (or virsh) answers on the other core while the files are listed.
  const listing = selectDomains(libvirt, req.domains);
  listing.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
  await new Promise((resolve) => setImmediate(resolve));
  const files = filesFor(req);
  const refs = await listing;
  const current = files && matchListing(files, refs);
  const cache = new CacheStore(req.settings.cacheDir, { scope: 'run' });
  const memo = current?.kind === 'current' ? DecisionMemo.load(req.settings.stateDir) : undefined;
  return { refs, current, memo, cache, history };
}

/**
 * Every domain's outcome as the memo remembers it, when each one's files are the very files of an
 * earlier in-sync decision and the memo is sealed with the history and the listing as they are
 * (a dry run records nothing: for it the domains alone decide); undefined as soon as one is not.
 */
function rememberedRun(survey: Survey, dryRun: boolean): Outcome[] | undefined {
  const { memo, current, refs, cache } = survey;
  if (!memo || current?.kind !== 'current') return undefined;
  if (!dryRun && !isSealed(memo, survey.history, refs)) return undefined;
  const outcomes: Outcome[] = [];
  const files: [DomainRef, readonly BigIntStats[]][] = [];
  for (const ref of refs) {
    const paths = memoPaths(current, cache, ref);
    const remembered = paths && memo.peek(ref.uuid, paths, memoFacts(ref));
    const outcome = remembered && inSyncOf(remembered.value, ref);
    if (!remembered || !outcome) return undefined;
    files.push([ref, remembered.stats]);
    outcomes.push(outcome);
  }
  // Only now: a run that goes on to decide (some domain not remembered) counts what it decides by.
  for (const [ref, stats] of files) countCacheFile(cache, ref, stats);
  return outcomes;
}

/** The run proper, under the lock: decides, writes what must be, records the history and the memo. */
async function lockedRun(started: number, libvirt: Libvirt, survey: Survey, req: RunRequest, addresses: AddressHistory | undefined): Promise<RunReport> {
  const { refs, current, memo, cache } = survey;
  const history = addresses?.begin();
  let present: string[] | undefined;
  let done = false;
  try {
    const ctx = { libvirt, transients: new TransientDomains(libvirt), cache, dryRun: req.dryRun };
    const fromFiles = current?.kind === 'current' ? new FromFiles(current, memo) : undefined;
    const outcomes = await reconcileDomains(ctx, refs, req.progress, fromFiles);
    // The same domains as the last run, each as that run left it, and the history as that run
    // left it: nothing to observe, nobody gone, nothing to record.
    const quiet = memo !== undefined && fromFiles?.remembered === refs.length && isSealed(memo, addresses?.fingerprint(), refs);
    if (!quiet) for (const o of outcomes) history?.observe(o);
    // Every domain listed and done: an instance recorded before and not among them is gone.
    if (req.domains.length === 0 && !quiet) present = refs.map((r) => r.uuid);
    done = true;
    return reportOf(started, req, libvirt, survey, outcomes, fromFiles);
  } finally {
    history?.finish(present);
    // After the history: the memo is sealed with the history as this run leaves it. Only a run
    // that decides from libvirt's files (never the hook's) keeps a memo to seal.
    if (done && memo && !req.dryRun) saveMemo(memo, req.settings.stateDir, sealOf(addresses?.fingerprint(), refs));
  }
}

function reportOf(
  started: number,
  req: RunRequest,
  libvirt: Libvirt,
  survey: Survey,
  outcomes: readonly Outcome[],
  fromFiles: { readonly decided: number; readonly remembered: number } | undefined,
): RunReport {
  const { refs, current, cache } = survey;
  return {
    outcomes,
    orphanCaches: req.domains.length > 0 ? [] : orphanCaches(cache, refs),
    durationSeconds: (Date.now() - started) / 1000,
    libvirtCommands: libvirt.calls,
    decidedFromFiles: fromFiles?.decided ?? 0,
    rememberedInSync: fromFiles?.remembered ?? 0,
    filesNotUsed: current?.kind === 'not-current' ? current.problem : undefined,
    oldestCacheWrite: oldestOf(cache.writeTimes()),
  };
}

/**
 * libvirt's files, read for a run over every domain of the daemon they belong to
 * (readsXmlFiles). A run for named domains (the hook's, after a guest start, while libvirt may
 * still be writing them) asks libvirt. Directories the running daemon does not keep are passed
 * over, though they may name every listed domain: a containerized daemon shares the host's /run
 * but keeps its definitions in a volume, and the host's /etc/libvirt/qemu may still hold an
 * earlier daemon's copies of the very same instances, which would then decide for the volume's.
 */
function filesFor(req: RunRequest): DomainFiles | undefined {
  const { settings } = req;
  if (req.domains.length > 0 || !readsXmlFiles(settings)) return undefined;
  const dirs = { live: settings.liveXmlDir, persistent: settings.persistentXmlDir };
  if (!daemonKeepsDirs(dirs)) return { kind: 'not-the-daemons', problem: `${dirs.live}/driver.pid names no running libvirt daemon that keeps ${dirs.live} and ${dirs.persistent}` };
  return readDomainFiles(dirs);
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
        const decided = files?.decide(ctx, ref);
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
 * Deciding domains from libvirt's files found current for a run, with what earlier runs found in
 * sync (the memo, adapters/decision-memo.ts), counting what it decided.
 */
export class FromFiles {
  private decidedCount = 0;
  private rememberedCount = 0;
  /** Domains in a row whose reading without a DOM called for a write. */
  private leanMisses = 0;

  constructor(
    readonly current: CurrentNow,
    private readonly memo?: DecisionMemo,
  ) {}

  /** Domains decided from the files, without a libvirt call of their own. */
  get decided(): number {
    return this.decidedCount;
  }

  /** Of those, the domains whose files were the very files of an earlier in-sync decision. */
  get remembered(): number {
    return this.rememberedCount;
  }

  /**
   * What the files call for: an outcome when they need no write (in sync, no cache, not nova, a
   * cache file in error); the writes to make when they do, which libvirt's read before each write
   * must confirm (reconcile-domain.ts). Undefined (ask libvirt) when there are no usable files,
   * and under --dry-run for drift: what libvirt holds then decides, never the file.
   */
  decide(ctx: ReconcileContext, ref: DomainRef): { kind: 'outcome'; outcome: Outcome } | { kind: 'planned'; planned: WriteDecision } | undefined {
    const decided = this.read(ctx, ref);
    if (decided?.kind === 'outcome') this.decidedCount++;
    return decided;
  }

  private read(ctx: ReconcileContext, ref: DomainRef): { kind: 'outcome'; outcome: Outcome } | { kind: 'planned'; planned: WriteDecision } | undefined {
    try {
      // Files that are the very files of an earlier in-sync decision: decided as then, unread.
      const decisions = this.memo;
      const paths = decisions && memoPaths(this.current, ctx.cache, ref);
      const facts = memoFacts(ref);
      const memo = paths && decisions.lookup(ref.uuid, paths, facts);
      const found = memo?.remembered;
      const remembered = found && inSyncOf(found.value, ref);
      if (found && remembered) {
        this.rememberedCount++;
        countCacheFile(ctx.cache, ref, found.stats);
        return { kind: 'outcome', outcome: remembered };
      }
      const remember = (outcome: Outcome): Outcome => {
        if (outcome.kind === 'in-sync' && paths && memo?.key !== undefined) decisions.record(ref.uuid, memo.key, paths, facts, outcome);
        return outcome;
      };
      // Read without a DOM first: most domains are in sync, and that reading costs a fraction.
      if (this.leanMisses < LEAN_MISSES_BEFORE_SKIPPING) {
        const lean = this.current.of(ref, 'lean');
        const outcome = lean && decideWithoutWrite(ctx, ref, plansOf(lean, true));
        if (outcome) {
          this.leanMisses = 0;
          return { kind: 'outcome', outcome: remember(outcome) };
        }
        this.leanMisses++;
      }
      const defs = this.current.of(ref, 'dom');
      if (!defs) return undefined;
      const decision = decide(ctx, ref, plansOf(defs, false));
      if (decision.kind === 'write') return { kind: 'planned', planned: decision };
      this.leanMisses = 0;
      if (decision.kind === 'would-repair') return undefined;
      return { kind: 'outcome', outcome: remember(decision) };
    } catch (err) {
      // The state directory refused, say: libvirt's path meets it again and makes it this domain's outcome.
      if (!isExpectedFailure(err)) throw err;
      return undefined;
    }
  }
}

/** The files a domain's memo entry stands for: libvirt's files of it, then its cache file (last, as countCacheFile takes it); undefined without a cache directory. */
function memoPaths(current: CurrentNow, cache: CacheStore, ref: DomainRef): string[] | undefined {
  return cache.usable() ? [...current.paths(ref), cache.path(ref.uuid)] : undefined;
}

/** The domain's cache file, unread since the memo knew it (memoPaths puts it last), among the run's inputs all the same. */
function countCacheFile(cache: CacheStore, ref: DomainRef, stats: readonly BigIntStats[]): void {
  const file = stats.at(-1);
  if (file) cache.countUnread(ref.uuid, file.mtime);
}

/** What the listing says of a domain, part of its memo key: a domain renamed, started or stopped is decided again. */
function memoFacts(ref: DomainRef): string {
  return `${ref.uuid} ${ref.name} ${ref.active ? String(ref.id) : '-'}`;
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
function sealOf(history: string | undefined, refs: readonly DomainRef[]): string | undefined {
  return history === undefined ? undefined : `${history}\n${refs.map((r) => r.uuid).sort().join(' ')}`;
}

/** The memo was saved by a run that left the history and the listing as they are now. */
function isSealed(memo: DecisionMemo, history: string | undefined, refs: readonly DomainRef[]): boolean {
  const seal = sealOf(history, refs);
  return seal !== undefined && memo.seal === seal;
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
