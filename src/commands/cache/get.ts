import { InputError } from '../../errors';
import { CacheStore } from '../../adapters/cache-store';
import { resolveSettings, type SettingFlags } from '../../adapters/settings';
import type { Io } from '../../io';

export interface CacheGetArgs extends SettingFlags {
  uuid: string;
}

export function run(args: CacheGetArgs, io: Io): number {
  const store = new CacheStore(resolveSettings(args).cacheDir);
  const cached = store.get(args.uuid);
  if (cached === undefined) throw new InputError('', `no cache for ${args.uuid.toLowerCase()} in ${store.dir}`);
  // The stored text is already JSON, so --json prints the same.
  io.out(cached.text.endsWith('\n') ? cached.text : `${cached.text}\n`);
  return 0;
}

