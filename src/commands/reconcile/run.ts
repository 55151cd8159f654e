import { readFileSync } from 'node:fs';
import type { Io } from '../../io';
import { ExitCode, IpmetaError } from '../../errors';
import { writeFileAtomic } from '../../adapters/atomic-file';
import { CacheStore } from '../../adapters/cache-store';
import { acquireRunLock } from '../../adapters/run-lock';
import { resolveSettings, type SettingFlags } from '../../adapters/settings';
import { listDomains, resolveDomain, type DomainRef } from '../../adapters/virsh/domains';
import { VirshSession } from '../../adapters/virsh/session';
import { formatMetrics, previousSuccess, runSucceeded } from '../../reconcile/metrics';
import { drifted } from '../../reconcile/outcome';
import { formatReport, reportJson } from '../../reconcile/report';
import { reconcileDomains } from '../../reconcile/run-reconcile';
import type { CredentialFlags } from '../../adapters/openstack/credentials';

export interface ReconcileArgs extends SettingFlags, CredentialFlags {
  sync: boolean;
  domain?: string[];
  dryRun: boolean;
  check: boolean;
  textfile?: string;
  wait: number;
  json: boolean;
}

export async function runReconcile(args: ReconcileArgs, io: Io): Promise<number> {
  const settings = resolveSettings(args);
  const started = Date.now();
  const lock = await acquireRunLock(settings.stateDir, { waitMs: args.wait * 1000 });
  const virsh = new VirshSession({ uri: settings.uri });
  try {
    // Before reconciling, under the same lock; a failed sync leaves the cache as it was, and
    // what is cached is still reconciled.
    const syncFailed = args.sync ? await syncFirst(settings, args, io) : false;
    const refs = await selectDomains(virsh, args.domain);
    const cache = new CacheStore(settings.cacheDir);
    const outcomes = await reconcileDomains({ virsh, cache, dryRun: args.dryRun }, refs, (done, total, last) => {
      if (io.interactive) io.err(`\rreconcile ${done}/${total} ${last.domain} ${last.kind}\x1b[K${done === total ? '\n' : ''}`);
    });
    // Reported, never acted on: a cache file for an instance this host does not have (yet).
    const orphans = args.domain?.length ? [] : orphanCaches(cache, refs);
    const durationSeconds = (Date.now() - started) / 1000;
    if (args.textfile) writeMetrics(args.textfile, outcomes, durationSeconds, orphans.length);
    io.out(
      args.json
        ? `${JSON.stringify(reportJson(outcomes, durationSeconds, orphans), null, 2)}\n`
        : formatReport(outcomes, durationSeconds, orphans),
    );
    if (!runSucceeded(outcomes) || syncFailed) return ExitCode.system;
    return args.check && outcomes.some(drifted) ? ExitCode.drift : ExitCode.ok;
  } finally {
    await virsh.close();
    await lock.release();
  }
}

/** `cache sync`; true when it failed (said on stderr). */
async function syncFirst(settings: ReturnType<typeof resolveSettings>, args: ReconcileArgs, io: Io): Promise<boolean> {
  const { syncCache } = await import('../cache/sync');
  try {
    const r = await syncCache(settings, args, io, { dryRun: args.dryRun });
    if (!args.json) io.err(`nova-ipmeta: cache sync: ${r.written.length} ${args.dryRun ? 'would be written' : 'written'}, ${r.unchanged} unchanged, ${r.failed.length} failed\n`);
    for (const f of r.failed) io.err(`nova-ipmeta: cache sync: ${f.uuid}: ${f.error}\n`);
    return r.failed.length > 0;
  } catch (err) {
    if (!(err instanceof IpmetaError)) throw err;
    io.err(`nova-ipmeta: ${err.message}\n`);
    return true;
  }
}

async function selectDomains(virsh: VirshSession, names: readonly string[] | undefined): Promise<DomainRef[]> {
  if (!names?.length) return listDomains(virsh);
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

function writeMetrics(path: string, outcomes: Parameters<typeof formatMetrics>[0]['outcomes'], durationSeconds: number, orphans: number): void {
  let before: string | undefined;
  try {
    before = readFileSync(path, 'utf8');
  } catch {
    // first run, or unreadable: no earlier success to carry over
  }
  const text = formatMetrics({
    outcomes,
    durationSeconds,
    finishedAt: Math.round(Date.now() / 1000),
    previousSuccess: before === undefined ? undefined : previousSuccess(before),
    orphanCaches: orphans,
  });
  writeFileAtomic(path, text, { mode: 0o644 });
}
