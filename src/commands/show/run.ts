import { UsageError } from '../../errors';
import { parseDomain } from '../../core/domain';
import { MAX_XML_BYTES } from '../../core/xml-document';
import { readInput } from '../../adapters/input-file';
import { oneDomain } from '../../adapters/domain-inventory';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { formatShow, showJson } from './format';
import type { Io } from '../../io';
import type { Args } from './command';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  if ((args.xml === undefined) === (args.domain === undefined)) {
    throw new UsageError('give a domain name or UUID, or --xml FILE (not both)', 'show');
  }
  if (args.xml !== undefined) {
    const input = await readInput(args.xml, io, MAX_XML_BYTES);
    const domain = parseDomain(input.text, input.source);
    io.out(args.json ? showJson(domain) : formatShow(domain));
    return ExitCode.ok;
  }
  const { domain, definition } = await oneDomain(resolveSettings(args), io, args.domain ?? '');
  io.out(args.json ? showJson(domain, definition) : formatShow(domain, definition));
  return ExitCode.ok;
}
