/** `cache list` output: a table for people, a list for machines. */
import type { CacheEntry } from '../../adapters/cache-store';
import { formatTable } from '../../cli/table';

export function formatCacheList(entries: readonly CacheEntry[], now: Date, dir: string): string {
  if (entries.length === 0) return `no cache in ${dir}\n`;
  const withErrors = entries.some((e) => e.error !== undefined);
  const headers = ['UUID', 'PORTS', 'ADDRESSES', 'AGE', ...(withErrors ? ['ERROR'] : [])];
  const rows = entries.map((e) => {
    const age = e.mtime === undefined ? '-' : formatAge(now.getTime() - e.mtime.getTime());
    return e.error === undefined ? [e.uuid, String(e.ports), String(e.addresses), age] : [e.uuid, '-', '-', age, e.error];
  });
  return formatTable(headers, rows);
}

/** The same keys on every entry, null where there is nothing, so `jq` filters need no guards. */
export function cacheListJson(entries: readonly CacheEntry[], now: Date): unknown[] {
  return entries.map((e) => ({
    uuid: e.uuid,
    ports: e.error === undefined ? e.ports : null,
    addresses: e.error === undefined ? e.addresses : null,
    mtime: e.mtime?.toISOString() ?? null,
    ageSeconds: e.mtime === undefined ? null : Math.max(0, Math.floor((now.getTime() - e.mtime.getTime()) / 1000)),
    error: e.error ?? null,
  }));
}

/** `45s`, `5m`, `3h`, `2d`: the largest whole unit; a clock step into the past shows 0s. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
