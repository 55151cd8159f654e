import { InputError } from '../../errors';
import { parseDomain } from '../../core/domain';
import { MAX_XML_BYTES } from '../../core/xml-document';
import { readInput } from '../../adapters/input-file';
import { oneDomain } from '../../adapters/domain-inventory';
import { resolveSettings, type SettingFlags } from '../../adapters/settings';
import { formatShow, showJson } from './format';
import type { Io } from '../../io';

export async function run(args: SettingFlags & { domain?: string; xml?: string; json: boolean }, io: Io): Promise<number> {
  if ((args.xml === undefined) === (args.domain === undefined)) {
    throw new InputError('usage', 'show needs a domain name or UUID, or --xml FILE (not both)');
  }
  if (args.xml !== undefined) {
    const input = await readInput(args.xml, io, MAX_XML_BYTES);
    const domain = parseDomain(input.text, input.source);
    io.out(args.json ? `${JSON.stringify(showJson(domain), null, 2)}\n` : formatShow(domain));
    return 0;
  }
  const { domain, definition } = await oneDomain(resolveSettings(args), io, args.domain ?? '');
  io.out(args.json ? `${JSON.stringify(showJson(domain, definition), null, 2)}\n` : formatShow(domain, definition));
  return 0;
}

