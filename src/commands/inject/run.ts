import { UsageError } from '../../errors';
import { readDomainToChange } from '../../core/domain-change';
import { injectPorts } from '../../core/inject';
import { parseNetworkInfo, LIMITS } from '../../core/network-info';
import { MAX_XML_BYTES } from '../../core/xml-document';
import { readInput } from '../../adapters/input-file';
import { ExitCode } from '../../exit-code';
import type { Io } from '../../io';
import type { Args } from './command';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  if (args.domainXml === '-' && args.networkInfo === '-') throw new UsageError('only one input can be stdin', 'inject');
  const xml = await readInput(args.domainXml, io, MAX_XML_BYTES);
  const info = await readInput(args.networkInfo, io, LIMITS.bytes);
  const { domain, text } = readDomainToChange(xml.text, xml.source);
  const result = injectPorts(domain, parseNetworkInfo(info.text, info.source));
  // Unchanged (in sync, or not nova's) is printed byte for byte as it came.
  io.out(result.kind === 'changed' ? text() : xml.text);
  return ExitCode.ok;
}
