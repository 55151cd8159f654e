import { CacheStore } from '../../adapters/cache-store';
import { resolveSettings, type SettingFlags } from '../../adapters/settings';
import { formatCacheList, cacheListJson } from './format';
import type { Io } from '../../io';

export interface CacheListArgs extends SettingFlags {
  json: boolean;
}

export function run(args: CacheListArgs, io: Io): number {
  const store = new CacheStore(resolveSettings(args).cacheDir);
  const entries = store.list();
  const now = new Date();
  io.out(args.json ? `${JSON.stringify(cacheListJson(entries, now), null, 2)}\n` : formatCacheList(entries, now, store.dir));
  return 0;
}

