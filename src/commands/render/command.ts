import { defineCommand } from '../../cli/command';
import { parseNetworkInfo, LIMITS } from '../../core/network-info';
import { NOVA_NS, type NovaNamespace } from '../../core/nova-namespace';
import { renderPorts } from '../../core/render';
import { readInput } from '../../adapters/input-file';

export const renderCommand = defineCommand<{ file: string; uri: NovaNamespace }>({
  name: 'render',
  describe: 'print the <nova:ports> element for a network_info file (every VIF)',
  positionals: [{ name: 'file', describe: 'network_info JSON, - for stdin', default: '-' }],
  options: {
    uri: { type: 'string', choices: [NOVA_NS.v1_1, NOVA_NS.v1_0], default: NOVA_NS.v1_1, describe: "nova's namespace URI" },
  },
  lean: true,
  run: async (args, io) => {
    const input = await readInput(args.file, io, LIMITS.bytes);
    io.out(renderPorts(parseNetworkInfo(input.text, input.source), args.uri));
    return 0;
  },
});
