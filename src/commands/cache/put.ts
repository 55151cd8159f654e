import { LIMITS } from '../../core/network-info';
import { CacheStore } from '../../adapters/cache-store';
import { readInput } from '../../adapters/input-file';
import { resolveSettings, type SettingFlags } from '../../adapters/settings';
import type { Io } from '../../io';

export interface CachePutArgs extends SettingFlags {
  uuid: string;
  file: string;
  json: boolean;
}

export async function run(args: CachePutArgs, io: Io): Promise<number> {
  const store = new CacheStore(resolveSettings(args).cacheDir);
  const path = store.path(args.uuid);
  const input = await readInput(args.file, io, LIMITS.bytes);
  const vifs = store.put(args.uuid, input.text, input.source);
  const ports = vifs.length;
  const addresses = vifs.reduce((n, v) => n + v.ips.length, 0);
  io.out(
    args.json
      ? `${JSON.stringify({ uuid: args.uuid.toLowerCase(), path, ports, addresses })}\n`
      : `cached ${args.uuid.toLowerCase()}: ${ports} ${ports === 1 ? 'port' : 'ports'}, ${addresses} ${addresses === 1 ? 'address' : 'addresses'}\n`,
  );
  return 0;
}

