import { defineCommand } from '../../cli/command';
import { InputError } from '../../errors';
import { parseDomain } from '../../core/domain';
import { MAX_XML_BYTES } from '../../core/xml-document';
import { readInput } from '../../adapters/input-file';
import { formatShow, showJson } from './format';

export const showCommand = defineCommand<{ domain?: string; xml?: string; json: boolean }>({
  name: 'show',
  describe: 'the ports and IPs one instance carries in its domain XML',
  positionals: [{ name: 'domain', describe: 'domain name or UUID' }],
  options: { xml: { type: 'string', describe: 'read a domain XML file (- for stdin) instead of libvirt' } },
  run: async (args, io) => {
    if (args.xml === undefined) throw new InputError('usage', 'show needs --xml FILE (reading libvirt comes with the reconcile issue)');
    const input = await readInput(args.xml, io, MAX_XML_BYTES);
    const domain = parseDomain(input.text, input.source);
    io.out(args.json ? `${JSON.stringify(showJson(domain), null, 2)}\n` : formatShow(domain));
    return 0;
  },
});
