import { LIMITS } from '../../core/network-info';
import { CacheStore } from '../../adapters/cache-store';
import { readInput } from '../../adapters/input-file';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import type { Io } from '../../io';
import type { Args } from './command';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const store = new CacheStore(resolveSettings(args).cacheDir);
  const path = store.path(args.uuid);
  const input = await readInput(args.file, io, LIMITS.bytes);
  const vifs = store.put(args.uuid, input.text, input.source);
  const uuid = args.uuid.toLowerCase();
  const ports = vifs.length;
  const addresses = vifs.reduce((n, v) => n + v.ips.length, 0);
  io.out(
    args.json
      ? `${JSON.stringify({ uuid, path, ports, addresses })}\n`
      : `cached ${uuid}: ${ports} ${ports === 1 ? 'port' : 'ports'}, ${addresses} ${addresses === 1 ? 'address' : 'addresses'}\n`,
  );
  return ExitCode.ok;
}
