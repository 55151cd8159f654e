import { parseNetworkInfo, LIMITS } from '../../core/network-info';
import type { NovaNamespace } from '../../core/nova-namespace';
import { renderPorts } from '../../core/render';
import { readInput } from '../../adapters/input-file';
import type { Io } from '../../io';

export async function run(args: { file: string; uri: NovaNamespace }, io: Io): Promise<number> {
  const input = await readInput(args.file, io, LIMITS.bytes);
  io.out(renderPorts(parseNetworkInfo(input.text, input.source), args.uri));
  return 0;
}

