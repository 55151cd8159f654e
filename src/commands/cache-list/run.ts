import { CacheStore, type CacheEntry } from '../../adapters/cache-store';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { formatListing, listingFormat, type Column } from '../../cli/output';
import type { Io } from '../../io';
import type { Args } from './command';

export function run(args: Args, io: Io): Promise<ExitCode> {
  const store = new CacheStore(resolveSettings(args).cacheDir);
  const entries = store.list();
  if (entries.length === 0 && listingFormat(args) === 'table') io.out(`no cache in ${store.dir}\n`);
  else io.out(formatListing(entries, columns(new Date(), entries.some((e) => e.error !== undefined)), args));
  return Promise.resolve(ExitCode.ok);
}

function columns(now: Date, withErrors: boolean): Column<CacheEntry>[] {
  const ageSeconds = (e: CacheEntry) => (e.mtime === undefined ? null : Math.max(0, Math.floor((now.getTime() - e.mtime.getTime()) / 1000)));
  return [
    { key: 'uuid', header: 'UUID', value: (e) => e.uuid },
    { key: 'ports', header: 'PORTS', value: (e) => (e.error === undefined ? e.ports : null) },
    { key: 'addresses', header: 'ADDRESSES', value: (e) => (e.error === undefined ? e.addresses : null) },
    { key: 'mtime', header: 'MODIFIED', value: (e) => e.mtime?.toISOString() ?? null, inTable: false },
    { key: 'ageSeconds', header: 'AGE_SECONDS', value: ageSeconds, inTable: false },
    { key: 'age', header: 'AGE', value: (e) => formatAge(ageSeconds(e)), inTable: true },
    { key: 'error', header: 'ERROR', value: (e) => e.error ?? null, inTable: withErrors },
  ];
}

/** `45s`, `5m`, `3h`, `2d`: the largest whole unit. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
