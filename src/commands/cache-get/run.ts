import { NotFoundError } from '../../errors';
import { CacheStore } from '../../adapters/cache-store';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import type { Io } from '../../io';
import type { Args } from './command';

export function run(args: Args, io: Io): Promise<ExitCode> {
  const store = new CacheStore(resolveSettings(args).cacheDir);
  const cached = store.get(args.uuid);
  if (cached === undefined) throw new NotFoundError(`no cache for ${args.uuid.toLowerCase()} in ${store.dir}`);
  // The stored text is nova's JSON as it was put: it is already the machine-readable form.
  io.out(cached.text.endsWith('\n') ? cached.text : `${cached.text}\n`);
  return Promise.resolve(ExitCode.ok);
}
