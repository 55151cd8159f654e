import { parseNetworkInfo, LIMITS } from '../../core/network-info';
import { renderPorts } from '../../core/render';
import { readInput } from '../../adapters/input-file';
import { ExitCode } from '../../exit-code';
import { jsonText } from '../../cli/output';
import { portsJson } from '../../cli/ports-json';
import type { Io } from '../../io';
import type { Args } from './command';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const input = await readInput(args.file, io, LIMITS.bytes);
  const vifs = parseNetworkInfo(input.text, input.source);
  // --json: the same ports as data, in the shape `show --json` gives them.
  io.out(args.json ? `${jsonText(portsJson(vifs))}\n` : renderPorts(vifs, args.uri));
  return ExitCode.ok;
}
