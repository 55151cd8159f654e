/**
 * `[cache_sync]` of our config file: where nova-compute's config is when no nova-compute runs
 * and none is at the usual paths, how often a full sync replaces the incremental polls, and the
 * whole sync's budget.
 */
import { InputError, quote } from '../../errors';
import type { Settings } from '../../adapters/settings';

export interface SyncSettings {
  /** Files, and directories read as a `--config-dir`, in order. */
  readonly novaConfig: readonly string[];
  readonly fullIntervalMs: number;
  readonly budgetMs: number;
}

export const SYNC_DEFAULTS = { fullIntervalS: 3600, budgetS: 120 } as const;

export function syncSettings(settings: Pick<Settings, 'ini' | 'configFile'>): SyncSettings {
  const section = settings.ini.get('cache_sync');
  const value = (key: string) => {
    const v = section?.get(key);
    return v === undefined || v === '' ? undefined : v;
  };
  const seconds = (key: string, def: number) => {
    const v = value(key);
    if (v === undefined) return def * 1000;
    const s = Number(v);
    if (!Number.isFinite(s) || s <= 0) throw new InputError(`${settings.configFile}: [cache_sync] ${key}`, `${quote(v)} is not a number of seconds`);
    return s * 1000;
  };
  return {
    novaConfig: (value('nova_config') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== ''),
    fullIntervalMs: seconds('full_sync_interval', SYNC_DEFAULTS.fullIntervalS),
    budgetMs: seconds('timeout', SYNC_DEFAULTS.budgetS),
  };
}
