/**
 * Cache sync: the network_info of every nova instance on this host, from Neutron. Instances are
 * the domains with a nova element (their UUID is the nova instance id, Neutron's `device_id`).
 * Neutron is asked in bulk (adapters/openstack/neutron.ts); each instance's file is built
 * (core/neutron-network-info.ts), validated by the cache's own validator, and written only when its
 * text differs from the stored one (the builder is deterministic, so a byte comparison is exact
 * and an unchanged Neutron writes nothing, which keeps the watcher quiet).
 *
 * Failure never costs a file: when any Neutron request fails, nothing is written at all; an
 * instance for which Neutron answered with no ports gets `[]` (the request succeeded: the
 * instance has no ports), and an instance whose result fails validation keeps its old file.
 */
import type { Io } from '../../io';
import { InputError, SystemError, isExpectedFailure } from '../../errors';
import { networkInfoFromNeutron } from '../../core/neutron-network-info';
import { parseNetworkInfo } from '../../core/network-info';
import { CacheStore } from '../../adapters/cache-store';
import { allDomains } from '../../adapters/domain-inventory';
import type { Settings } from '../../adapters/settings';
import { resolveOpenStack, type CredentialFlags } from '../../adapters/openstack/credentials';
import { NeutronClient } from '../../adapters/openstack/neutron';

export interface SyncResult {
  readonly instances: number;
  readonly written: readonly string[];
  readonly unchanged: number;
  readonly failed: readonly { readonly uuid: string; readonly error: string }[];
  readonly requests: number;
}

export interface SyncOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Validate and compare, write nothing: `written` then lists what would be. */
  readonly dryRun?: boolean;
  /** Retry tuning (tests, bench); the defaults are the adapter's. */
  readonly attempts?: number;
  readonly backoffMs?: number;
}

/** Throws (writing nothing) when the credentials are wrong or Neutron cannot answer. */
export async function syncCache(settings: Settings, flags: CredentialFlags, io: Io, opts: SyncOptions = {}): Promise<SyncResult> {
  const config = resolveOpenStack(flags, opts.env ?? process.env, settings.ini);
  const uuids = (await allDomains(settings, io)).filter((e) => e.domain.nova !== undefined).map((e) => e.domain.uuid);
  const client = new NeutronClient(config, { ...(opts.attempts ? { attempts: opts.attempts } : {}), ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}) });
  const unique = [...new Set(uuids)];
  let view;
  try {
    view = await client.view(unique);
  } catch (err) {
    if (err instanceof InputError || err instanceof SystemError) throw new SystemError(`cache sync: Neutron (${config.source}): ${err.message}; no cache file changed`, { cause: err });
    throw err;
  }
  const cache = new CacheStore(settings.cacheDir);
  const written: string[] = [];
  const failed: { uuid: string; error: string }[] = [];
  let unchanged = 0;
  for (const uuid of unique) {
    const text = `${JSON.stringify(networkInfoFromNeutron(uuid, view), null, 1)}\n`;
    try {
      const before = cache.read(uuid);
      if (before.kind === 'ok' && before.text === text) {
        unchanged++;
        continue;
      }
      if (opts.dryRun) parseNetworkInfo(text, `Neutron's ports of ${uuid}`);
      else cache.put(uuid, text, `Neutron's ports of ${uuid}`);
      written.push(uuid);
    } catch (err) {
      if (!isExpectedFailure(err)) throw err;
      failed.push({ uuid, error: err.message });
    }
  }
  return { instances: unique.length, written, unchanged, failed, requests: client.http.requests };
}
