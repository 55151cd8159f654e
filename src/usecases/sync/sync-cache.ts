/**
 * Cache sync: the network_info of every nova instance on this host, from Neutron
 * (docs/design.md, "The cache"). Instances are the domains with a nova element (their UUID is the
 * nova instance id, Neutron's `device_id`).
 *
 * Full or incremental. A full sync asks Neutron about every instance in bulk
 * (adapters/openstack/neutron.ts). Between full syncs (every `[cache_sync] full_sync_interval`), a
 * poll only asks what changed since the last one (`changed_since`, trimmed with `fields`): the
 * instances whose ports changed (and the ones that held a port that moved), the floating IPs that
 * changed (without a port filter: one taken off a port no longer names it), and whether the
 * floating IPs it knows still exist (a deleted one shows in no `changed_since` answer); it then
 * fetches those instances, and new ones, in full.
 * A quiet cloud costs a few near-empty answers. A deleted or detached port is not seen until the
 * next full sync, but its interface leaves the domain with it, so the XML is right meanwhile.
 * Anything doubtful about the last sync's state (none, unreadable, another Neutron or identity,
 * Neutron's clock behind it, our clock behind the last full sync) makes it a full sync.
 *
 * Failure never costs a file: everything is fetched and every Neutron answer checked whole
 * before the first file is written, and when anything fails (a request, a page, an answer that
 * is not what Neutron sends, the budget), nothing is written at all. An instance for which
 * Neutron answered with no ports gets `[]`; an instance whose result fails the cache's own
 * validation keeps its old file and is reported. Files are written only when their text changed
 * (the builder is deterministic), which keeps the watcher quiet.
 */
import type { Io } from '../../io';
import { InputError, SystemError, isExpectedFailure, messageOf } from '../../errors';
import { networkInfoFromNeutron, type NeutronView } from '../../core/neutron-network-info';
import { parseNetworkInfo } from '../../core/network-info';
import { CacheStore } from '../../adapters/cache-store';
import { allDomains } from '../../adapters/domain-inventory';
import { acquireRunLock, type RunLock } from '../../adapters/run-lock';
import type { Settings } from '../../adapters/settings';
import { findCredentials, whereLooked, type CredentialFlags, type CredentialSource, type OpenStackConfig } from '../../adapters/openstack/credentials';
import { Budget, HttpStatusError } from '../../adapters/openstack/http';
import { NeutronClient } from '../../adapters/openstack/neutron';
import { findNovaConfig, HOST_PLACES, type NovaConfigPlaces } from '../../adapters/openstack/nova-config';
import { TokenCache } from '../../adapters/openstack/token-cache';
import type { CloudsFiles } from '../../adapters/openstack/clouds-yaml';
import { neutronTime, readSyncState, sourceKey, writeSyncState, type InstanceIds, type SyncState } from './sync-state';
import { syncSettings } from './sync-settings';

export interface SyncResult {
  readonly mode: 'full' | 'incremental';
  /** Why a full sync was made. */
  readonly why?: string;
  readonly source: string;
  readonly instances: number;
  /** Instances whose ports were fetched in full this time. */
  readonly fetched: number;
  readonly written: readonly string[];
  readonly unchanged: number;
  readonly failed: readonly { readonly uuid: string; readonly error: string }[];
  readonly requests: number;
  /** Tokens asked of Keystone (0 when the cached one served). */
  readonly tokens: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

export interface SyncOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Validate and compare, write nothing (no cache file, no token, no state): `written` lists what would be. */
  readonly dryRun?: boolean;
  /** A full sync whatever the state says. */
  readonly full?: boolean;
  /** Retry tuning (tests, bench); the defaults are the adapter's. */
  readonly attempts?: number;
  readonly backoffMs?: number;
  /** Where nova-compute's config is looked for, and clouds.yaml (tests). */
  readonly novaPlaces?: NovaConfigPlaces;
  readonly clouds?: CloudsFiles;
}

/** Changes committed a little after their timestamp, or by another API server's clock, are asked for again. */
const OVERLAP_MS = 30_000;
const SYNC_LOCK = 'cache-sync.lock';

/** Which credentials `cache sync` would use, or undefined when none are found. */
export function credentialSource(settings: Settings, flags: CredentialFlags, opts: Pick<SyncOptions, 'env' | 'novaPlaces' | 'clouds'> = {}): CredentialSource | undefined {
  const { novaConfig } = syncSettings(settings);
  return findCredentials({
    flags,
    env: opts.env ?? process.env,
    ini: settings.ini,
    configFile: settings.configFile,
    novaConfig: () => findNovaConfig(novaConfig, opts.novaPlaces ?? HOST_PLACES),
    ...(opts.clouds ? { clouds: opts.clouds } : {}),
  });
}

/** Throws (writing nothing) when the credentials are wrong or Neutron cannot answer. */
export async function syncCache(settings: Settings, flags: CredentialFlags, io: Io, opts: SyncOptions = {}): Promise<SyncResult> {
  const source = credentialSource(settings, flags, opts);
  if (!source) throw new InputError('cache sync', `no Neutron credentials found: ${whereLooked(settings.configFile)}`);
  const config = source.config();
  const tuning = syncSettings(settings);
  const budget = new Budget(tuning.budgetMs, 'cache sync');
  const domains = [...new Set((await allDomains(settings, io)).filter((e) => e.domain.nova !== undefined).map((e) => e.domain.uuid as string))];
  // One sync at a time per state directory, so two cannot leave each other's state behind.
  const lock: RunLock | undefined = opts.dryRun ? undefined : await acquireRunLock(settings.stateDir, { waitMs: budget.remaining(), file: SYNC_LOCK, holderName: 'cache sync' });
  try {
    const client = new NeutronClient(config, {
      budget,
      tokens: config.auth.type === 'none' ? undefined : new TokenCache(settings.stateDir, config.auth, opts.dryRun),
      // A token must last the whole sync, with a minute to spare.
      tokenMarginMs: tuning.budgetMs + 60_000,
      attempts: opts.attempts,
      backoffMs: opts.backoffMs,
    });
    return await syncLocked(settings, config, domains, client, opts, tuning.fullIntervalMs);
  } finally {
    await lock?.release();
  }
}

async function syncLocked(settings: Settings, config: OpenStackConfig, domains: readonly string[], client: NeutronClient, opts: SyncOptions, fullIntervalMs: number): Promise<SyncResult> {
  const sourceLabel = config.source;
  const startedAt = Date.now();
  const key = sourceKey(config);
  const before = readSyncState(settings.stateDir);
  let why = fullReason(before, key, startedAt, fullIntervalMs, opts.full === true);
  let fetch: readonly string[];
  let view: NeutronView;
  try {
    // A Neutron whose filter validation does not know `changed_since` (neutron.conf's
    // filter_validation, on by default, with a timestamp plugin that declares no filter) answers
    // a poll with HTTP 400: then this run is a full sync, as every run will be there.
    const affected = why === undefined && before ? await changedInstancesOr400(client, before, domains) : undefined;
    if (affected === 'refused') why = 'Neutron refuses changed_since (filter_validation): every sync is a full one';
    if (why === undefined && before && affected instanceof Set) {
      // Neutron's clock now behind the time we asked from: the state cannot be trusted.
      if ((client.firstAnswerAt?.getTime() ?? Infinity) < Date.parse(before.since)) why = "Neutron's clock is behind the last sync's";
      fetch = why === undefined ? domains.filter((u) => affected.has(u) || before.instances[u] === undefined) : domains;
    } else fetch = domains;
    view = fetch.length > 0 ? await client.view(fetch) : { ports: [], subnets: new Map(), networks: new Map(), floatingIps: [] };
  } catch (err) {
    if (isExpectedFailure(err)) throw new SystemError(`cache sync: Neutron (${sourceLabel}): ${messageOf(err)}; no cache file changed`, { cause: err });
    throw err;
  } finally {
    client.close();
  }

  // Everything built and checked before the first write.
  const cache = new CacheStore(settings.cacheDir);
  const writes: { uuid: string; text: string }[] = [];
  const failed: { uuid: string; error: string }[] = [];
  for (const uuid of fetch) {
    const text = `${JSON.stringify(networkInfoFromNeutron(uuid, view), null, 1)}\n`;
    try {
      parseNetworkInfo(text, `Neutron's ports of ${uuid}`);
      const old = cache.read(uuid);
      if (old.kind !== 'ok' || old.text !== text) writes.push({ uuid, text });
    } catch (err) {
      if (!isExpectedFailure(err)) throw err;
      failed.push({ uuid, error: err.message });
    }
  }
  if (!opts.dryRun) {
    for (const w of writes) cache.put(w.uuid, w.text, `Neutron's ports of ${w.uuid}`);
    const instances: Record<string, InstanceIds> = {};
    for (const uuid of domains) {
      const kept = before?.instances[uuid];
      if (fetch.includes(uuid)) instances[uuid] = idsOf(uuid, view);
      else if (kept) instances[uuid] = kept;
    }
    const basis = client.firstAnswerAt?.getTime() ?? startedAt;
    writeSyncState(settings.stateDir, {
      source: key,
      fullAt: why === undefined && before ? before.fullAt : Date.now(),
      since: neutronTime(basis - OVERLAP_MS),
      instances,
    });
  }
  return {
    mode: why === undefined ? 'incremental' : 'full',
    ...(why === undefined ? {} : { why }),
    source: sourceLabel,
    instances: domains.length,
    fetched: fetch.length,
    written: writes.map((w) => w.uuid),
    unchanged: domains.length - writes.length - failed.length,
    failed,
    requests: client.http.requests,
    tokens: client.tokensIssued,
    bytesSent: client.http.bytesSent,
    bytesReceived: client.http.bytesReceived,
  };
}

/** Why this sync must be a full one, or undefined when an incremental poll will do. */
function fullReason(state: SyncState | undefined, key: string, now: number, intervalMs: number, forced: boolean): string | undefined {
  if (forced) return '--full';
  if (!state) return 'no earlier sync state';
  if (state.source !== key) return 'another Neutron or identity than the last sync';
  if (now < state.fullAt) return 'the clock is behind the last full sync';
  if (now - state.fullAt >= intervalMs) return `the last full sync is ${Math.round((now - state.fullAt) / 1000)} s old`;
  return undefined;
}

async function changedInstancesOr400(client: NeutronClient, state: SyncState, domains: readonly string[]): Promise<Set<string> | 'refused'> {
  try {
    return await changedInstances(client, state, domains);
  } catch (err) {
    if (err instanceof HttpStatusError && err.status === 400 && err.message.includes('changed_since')) return 'refused';
    throw err;
  }
}

/** The questions an incremental poll asks Neutron. */
export type PollClient = Pick<NeutronClient, 'changedPorts' | 'changedFloatingIps' | 'existingFloatingIps'>;

/** The instances whose ports or floating IPs changed since the last sync, and those that held a port that moved. */
export async function changedInstances(client: PollClient, state: SyncState, domains: readonly string[]): Promise<Set<string>> {
  const known = domains.filter((u) => state.instances[u] !== undefined);
  const portOwner = new Map<string, string>();
  const fipOwner = new Map<string, string>();
  for (const uuid of known) {
    for (const p of state.instances[uuid]?.ports ?? []) portOwner.set(p, uuid);
    for (const f of state.instances[uuid]?.floatingips ?? []) fipOwner.set(f, uuid);
  }
  const affected = new Set<string>();
  // A port moved to another instance here names only its new one: the one that held it at the
  // last sync must be fetched too, or its file keeps the port until the next full sync. The new
  // instances are asked about too (they are fetched anyway): a port moved onto one names no known one.
  for (const p of await client.changedPorts(domains, state.since)) {
    affected.add(p.device_id);
    const was = portOwner.get(p.id);
    if (was !== undefined) affected.add(was);
  }
  if (portOwner.size === 0 && fipOwner.size === 0) return affected;
  for (const f of await client.changedFloatingIps(state.since)) {
    const to = f.port_id === null ? undefined : portOwner.get(f.port_id);
    const from = fipOwner.get(f.id);
    if (to !== undefined) affected.add(to);
    if (from !== undefined) affected.add(from);
  }
  if (fipOwner.size > 0) {
    const existing = await client.existingFloatingIps([...fipOwner.keys()]);
    for (const [id, uuid] of fipOwner) if (!existing.has(id)) affected.add(uuid);
  }
  return affected;
}

function idsOf(uuid: string, view: NeutronView): InstanceIds {
  const ports = view.ports.filter((p) => p.device_id === uuid).map((p) => p.id);
  const own = new Set(ports);
  return { ports, floatingips: view.floatingIps.filter((f) => f.port_id != null && own.has(f.port_id)).map((f) => f.id) };
}
