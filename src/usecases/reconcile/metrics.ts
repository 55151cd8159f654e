/**
 * The metrics of the periodic reconcile (docs/design.md, "Metrics"), in the Prometheus text
 * format (./metrics-exposition.ts, with prom-client, loaded only by what prints them):
 * node_exporter's textfile (`reconcile --textfile`) and the watcher's `/metrics` render the same
 * record the same way.
 *
 * Every full run ends in a `RunRecord`, failures included (libvirt down, the lock busy, the sync
 * failed): what the run knew is written, what it did not know is left out (no outcome counts and
 * no addresses when no domain was reached), and a last-success timestamp moves only on success;
 * otherwise it is carried over from the previous record, as are the last sync's facts by a run
 * that made no sync. The record is kept in the state directory (`last-run.json`) for the next
 * run and for the watcher to serve.
 *
 * One `nova_ipmeta_instance_ip_info` series per address, labelled the way monitoring joins
 * (instance_id, project_id): with the `instance` label Prometheus adds, it answers "which host and
 * instance holds this address" now and at any past time.
 */
import { OUTCOME_KINDS, drifted, type Outcome, type OutcomeKind } from './outcome';

/** What a sync that ran before the reconcile told. */
export interface SyncFacts {
  readonly success: boolean;
  /** Unix seconds when the sync ended. */
  readonly finishedAt: number;
  /** Instances per result; undefined when the sync failed as a whole (nothing was written). */
  readonly instances?: SyncCounts;
}

export const SYNC_RESULTS = ['written', 'unchanged', 'failed'] as const;
export type SyncCounts = { readonly [result in (typeof SYNC_RESULTS)[number]]: number };

/** The last sync's facts as a record keeps them: a success is always dated. */
export type SyncRecord =
  | { readonly success: true; readonly lastSuccess: number; readonly instances?: SyncCounts }
  | { readonly success: false; readonly lastSuccess?: number; readonly instances?: SyncCounts };

/** What a run knew when it ended. */
export interface RunFacts {
  /** Unix seconds. */
  readonly finishedAt: number;
  readonly durationSeconds: number;
  /** undefined: the run failed before it reached any domain (libvirt down, the lock busy). */
  readonly outcomes?: readonly Outcome[];
  readonly orphanCaches?: number;
  /** Unix seconds: the oldest write of a cache file of an instance on this host. */
  readonly oldestCacheWrite?: number;
  /**
   * The sync this run made; `unconfigured`: `--auto-sync` found no credentials, so the host does
   * not sync (the record drops the sync's facts); undefined: none asked for (it keeps the last's).
   */
  readonly sync?: SyncFacts | 'unconfigured';
}

export interface AddressLabels {
  readonly domain: string;
  readonly instance_id: string;
  readonly project_id: string;
  readonly port_id: string;
  readonly address: string;
  readonly type: string;
  readonly ip_version: string;
}

/** The last run, as kept in the state directory: plain JSON data. */
export interface RunRecord {
  readonly finishedAt: number;
  readonly durationSeconds: number;
  readonly reconcile: { readonly success: boolean; readonly lastSuccess?: number };
  readonly outcomes?: Readonly<Record<OutcomeKind, number>>;
  /** UUIDs of the domains found drifted by the last run that reached the domains. */
  readonly drifted?: readonly string[];
  /** Domains found drifted by this run and by the one before: a repair that did not last. */
  readonly driftedAgain?: number;
  readonly orphanCaches?: number;
  readonly cacheAgeSeconds?: number;
  /** The last sync's, made by this run or an earlier one; undefined when the host never synced. */
  readonly sync?: SyncRecord;
  readonly addresses?: readonly AddressLabels[];
}

export const LAST_RUN_FILE = 'last-run.json';
/** Far more than the record of any host (one entry per address); what is larger is not ours. */
export const LAST_RUN_MAX_BYTES = 64 * 1024 * 1024;

export function runSucceeded(outcomes: readonly Outcome[]): boolean {
  return outcomes.every((o) => o.kind !== 'error');
}

/** This run's record, carrying the last successes (and the drifted domains) over from the previous one. */
export function recordRun(facts: RunFacts, previous: RunRecord | undefined): RunRecord {
  const { outcomes, sync } = facts;
  const success = outcomes !== undefined && runSucceeded(outcomes);
  const reconcileLast = success ? facts.finishedAt : previous?.reconcile.lastSuccess;
  const driftedNow = outcomes?.filter(drifted).map((o) => o.uuid);
  const before = new Set(previous?.drifted ?? []);
  // A run asked for no sync (`reconcile` by hand, as the alerts tell the operator to run) learnt
  // nothing new about syncs: dropping the last one's facts would blank the sync series, and with
  // them the alert on a sync that stopped succeeding, until a sync succeeds again. A host whose
  // credentials are gone does not sync any more: its series go, with the alert (the way to stop).
  const syncRecord = sync === 'unconfigured' ? undefined : sync === undefined ? previous?.sync : syncRecordOf(sync, previous?.sync?.lastSuccess);
  const syncLast = syncRecord?.lastSuccess;
  // A sync confirms every file, written or not: the cache is as old as the last one that worked.
  const cacheAge = syncLast !== undefined ? facts.finishedAt - syncLast : facts.oldestCacheWrite !== undefined ? facts.finishedAt - facts.oldestCacheWrite : undefined;
  return {
    finishedAt: facts.finishedAt,
    durationSeconds: Math.round(facts.durationSeconds * 1000) / 1000,
    reconcile: { success, ...(reconcileLast !== undefined ? { lastSuccess: reconcileLast } : {}) },
    ...(outcomes !== undefined ? { outcomes: countOutcomes(outcomes) } : {}),
    ...(driftedNow !== undefined ? { drifted: driftedNow, driftedAgain: driftedNow.filter((u) => before.has(u)).length } : previous?.drifted ? { drifted: previous.drifted } : {}),
    ...(facts.orphanCaches !== undefined ? { orphanCaches: facts.orphanCaches } : {}),
    ...(cacheAge !== undefined ? { cacheAgeSeconds: Math.max(0, Math.round(cacheAge)) } : {}),
    ...(syncRecord !== undefined ? { sync: syncRecord } : {}),
    ...(outcomes !== undefined ? { addresses: addressesOf(outcomes) } : {}),
  };
}

function syncRecordOf(sync: SyncFacts, lastSuccess: number | undefined): SyncRecord {
  const counts = sync.instances ? { instances: sync.instances } : {};
  if (sync.success) return { success: true, lastSuccess: sync.finishedAt, ...counts };
  return { success: false, ...(lastSuccess !== undefined ? { lastSuccess } : {}), ...counts };
}

function countOutcomes(outcomes: readonly Outcome[]): Record<OutcomeKind, number> {
  const counts = Object.fromEntries(OUTCOME_KINDS.map((k) => [k, 0])) as Record<OutcomeKind, number>;
  for (const o of outcomes) counts[o.kind]++;
  return counts;
}

function addressesOf(outcomes: readonly Outcome[]): AddressLabels[] {
  const rows: AddressLabels[] = [];
  for (const o of outcomes) {
    if (!('ports' in o)) continue;
    for (const port of o.ports) {
      for (const ip of port.ips) {
        rows.push({
          domain: o.domain,
          instance_id: o.uuid,
          project_id: o.projectId ?? '',
          port_id: port.id,
          address: ip.address,
          type: ip.type,
          ip_version: String(ip.version),
        });
      }
    }
  }
  return rows;
}

/** A record read back from the state directory, or undefined when it is not one (then nothing is carried over). */
export function parseRunRecord(text: string): RunRecord | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRunRecord(data) ? data : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);
const isCounts = (v: unknown, keys: readonly string[]) => isObject(v) && keys.every((k) => isTime(v[k]));
const ADDRESS_KEYS = ['domain', 'instance_id', 'project_id', 'port_id', 'address', 'type', 'ip_version'] as const;

function isRunRecord(v: unknown): v is RunRecord {
  if (!isObject(v) || !isTime(v.finishedAt) || !isTime(v.durationSeconds)) return false;
  const r = v.reconcile;
  if (!isObject(r) || typeof r.success !== 'boolean' || !optional(r.lastSuccess, isTime)) return false;
  const s = v.sync;
  const syncOk =
    s === undefined ||
    (isObject(s) &&
      (s.success === true ? isTime(s.lastSuccess) : s.success === false && optional(s.lastSuccess, isTime)) &&
      optional(s.instances, (i) => isCounts(i, SYNC_RESULTS)));
  return (
    syncOk &&
    optional(v.outcomes, (o) => isCounts(o, OUTCOME_KINDS)) &&
    optional(v.drifted, (d) => Array.isArray(d) && d.every((u) => typeof u === 'string')) &&
    optional(v.driftedAgain, isTime) &&
    optional(v.orphanCaches, isTime) &&
    optional(v.cacheAgeSeconds, isTime) &&
    optional(v.addresses, (a) => Array.isArray(a) && a.every((row) => isObject(row) && ADDRESS_KEYS.every((k) => typeof row[k] === 'string')))
  );
}
