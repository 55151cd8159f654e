import { InputError } from '../../errors';
import { CacheStore } from '../../adapters/cache-store';
import { resolveSettings, type SettingFlags } from '../../adapters/settings';
import type { Io } from '../../io';

export interface CacheRmArgs extends SettingFlags {
  uuid: string;
  force: boolean;
}

export function run(args: CacheRmArgs, _io: Io): number {
  const store = new CacheStore(resolveSettings(args).cacheDir);
  if (!store.rm(args.uuid) && !args.force) throw new InputError('', `no cache for ${args.uuid.toLowerCase()} in ${store.dir}`);
  return 0;
}

