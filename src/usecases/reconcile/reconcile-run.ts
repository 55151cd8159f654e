/**
 * A reconcile run: every domain (or the ones named) through one virsh session, under the run
 * lock, one domain's failure never stopping the others. The one policy for failures: what the
 * tool expects (ours, a system call's errno) becomes that domain's `error` outcome; anything else
 * is a bug and propagates to runMain.
 */
import { isExpectedFailure, messageOf } from '../../errors';
import { CacheStore } from '../../adapters/cache-store';
import { acquireRunLock } from '../../adapters/run-lock';
import type { Settings } from '../../adapters/settings';
import { listDomains, resolveDomain, type DomainRef } from '../../adapters/virsh/domains';
import { VirshSession } from '../../adapters/virsh/session';
import { AddressHistory } from '../history/address-history';
import { reconcileDomain, type ReconcileContext } from './reconcile-domain';
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
  /** Commands sent to libvirt (virsh), the listing included. */
  readonly libvirtCommands: number;
}

export async function reconcileRun(req: RunRequest): Promise<RunReport> {
  const started = Date.now();
  const lock = await acquireRunLock(req.settings.stateDir, { waitMs: req.lockWaitMs });
  const virsh = new VirshSession({ uri: req.settings.uri });
  const { settings } = req;
  // A dry run (and a check) changes nothing, the history included.
  const history = req.dryRun ? undefined : new AddressHistory({ stateDir: settings.stateDir, ini: settings.ini, configFile: settings.configFile, log: req.warn ?? (() => undefined) }).begin();
  let present: string[] | undefined;
  try {
    const refs = await selectDomains(virsh, req.domains);
    const cache = new CacheStore(req.settings.cacheDir);
    const outcomes = await reconcileDomains({ virsh, cache, dryRun: req.dryRun }, refs, (done, total, last) => {
      history?.observe(last);
      req.progress?.(done, total, last);
    });
    // Every domain listed and done: an instance recorded before and not among them is gone.
    if (req.domains.length === 0) present = refs.map((r) => r.uuid);
    return {
      outcomes,
      orphanCaches: req.domains.length ? [] : orphanCaches(cache, refs),
      durationSeconds: (Date.now() - started) / 1000,
      libvirtCommands: virsh.stats.commands,
    };
  } finally {
    history?.finish(present);
    await virsh.close();
    await lock.release();
  }
}

/** Each domain in turn; an expected failure is that domain's outcome. */
export async function reconcileDomains(ctx: ReconcileContext, refs: readonly DomainRef[], progress?: Progress): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const ref of refs) {
    const outcome = await reconcileOrError(ctx, ref);
    outcomes.push(outcome);
    progress?.(outcomes.length, refs.length, outcome);
  }
  return outcomes;
}

export async function reconcileOrError(ctx: ReconcileContext, ref: DomainRef): Promise<Outcome> {
  try {
    return await reconcileDomain(ctx, ref);
  } catch (err) {
    if (!isExpectedFailure(err)) throw err;
    return { domain: ref.name, uuid: ref.uuid, kind: 'error', reason: messageOf(err) };
  }
}

async function selectDomains(virsh: VirshSession, names: readonly string[]): Promise<DomainRef[]> {
  if (names.length === 0) return listDomains(virsh);
  const refs: DomainRef[] = [];
  for (const name of names) {
    const ref = await resolveDomain(virsh, name);
    if (!refs.some((r) => r.uuid === ref.uuid)) refs.push(ref);
  }
  return refs;
}

function orphanCaches(cache: CacheStore, refs: readonly DomainRef[]): string[] {
  const known = new Set<string>(refs.map((r) => r.uuid));
  return cache
    .list()
    .map((e) => e.uuid)
    .filter((uuid) => !known.has(uuid));
}
