import { NotFoundError } from '../../errors';
import { CacheStore } from '../../adapters/cache-store';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import type { Io } from '../../io';
import type { Args } from './command';

export function run(args: Args, io: Io): Promise<ExitCode> {
  const store = new CacheStore(resolveSettings(args).cacheDir);
  const uuid = args.uuid.toLowerCase();
  if (store.rm(args.uuid)) io.out(`removed the cache of ${uuid}\n`);
  else if (!args.force) throw new NotFoundError(`no cache for ${uuid} in ${store.dir}`);
  return Promise.resolve(ExitCode.ok);
}
