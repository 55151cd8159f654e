/**
 * What an incremental `cache sync` needs from the last one: `<state>/cache-sync.json`, 0600. It
 * holds Neutron's clock to ask `changed_since` from, when the last full sync was, which Neutron
 * and credentials it was for, and each instance's port and floating IP ids (to tell which
 * instances a changed or vanished floating IP belongs to). Only our own, trusted file is read
 * (adapters/private-file.ts); anything missing or odd about it makes the next sync a full one.
 */
import { createHash } from 'node:crypto';
import { readPrivateFile, writePrivateFile } from '../../adapters/private-file';
import type { OpenStackConfig } from '../../adapters/openstack/credentials';

export const STATE_FILE = 'cache-sync.json';
const VERSION = 1;
const MAX_BYTES = 16 * 1024 * 1024;

export interface InstanceIds {
  readonly ports: readonly string[];
  readonly floatingips: readonly string[];
}

export interface SyncState {
  /** Which Neutron and identity this state describes (a hash; no secret in it). */
  readonly source: string;
  /** When the last full sync ended, by our clock (ms). */
  readonly fullAt: number;
  /** Neutron's clock to ask `changed_since` from (whole seconds, UTC). */
  readonly since: string;
  readonly instances: Readonly<Record<string, InstanceIds>>;
}

export function readSyncState(stateDir: string): SyncState | undefined {
  const text = readPrivateFile(stateDir, STATE_FILE, MAX_BYTES);
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as Record<string, unknown>;
    if (s.version !== VERSION || typeof s.source !== 'string' || typeof s.full_at !== 'number' || typeof s.since !== 'string') return undefined;
    if (Number.isNaN(Date.parse(s.since)) || s.instances === null || typeof s.instances !== 'object') return undefined;
    const instances: Record<string, InstanceIds> = {};
    for (const [uuid, v] of Object.entries(s.instances as Record<string, unknown>)) {
      const ids = v as { ports?: unknown; floatingips?: unknown };
      if (!isStringList(ids.ports) || !isStringList(ids.floatingips)) return undefined;
      instances[uuid] = { ports: ids.ports, floatingips: ids.floatingips };
    }
    return { source: s.source, fullAt: s.full_at, since: s.since, instances };
  } catch {
    return undefined;
  }
}

/** Best effort: a state that cannot be written makes the next sync a full one. */
export function writeSyncState(stateDir: string, state: SyncState): void {
  const { source, fullAt, since, instances } = state;
  writePrivateFile(stateDir, STATE_FILE, `${JSON.stringify({ version: VERSION, source, full_at: fullAt, since, instances })}\n`);
}

/** The Neutron and identity a config talks to, as a hash: the same for the same cloud, whatever the secret. */
export function sourceKey(config: OpenStackConfig): string {
  const auth = config.auth;
  const who =
    auth.type === 'none'
      ? []
      : auth.type === 'password'
        ? [auth.authUrl, auth.userId, auth.username, auth.userDomainId, auth.userDomainName, auth.projectId, auth.projectName, auth.projectDomainId, auth.projectDomainName]
        : [auth.authUrl, auth.id, auth.name, auth.userId, auth.username];
  const where = [config.endpoint, config.region, config.interfaces.join(','), config.serviceType, config.serviceName];
  return createHash('sha256').update(JSON.stringify([auth.type, ...who, ...where])).digest('hex').slice(0, 32);
}

/** `changed_since` as Neutron takes it: UTC, whole seconds. */
export function neutronTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
