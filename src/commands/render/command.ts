import { defineCommand } from '../../cli/command';
import { NOVA_NS, type NovaNamespace } from '../../core/nova-namespace';

export const renderCommand = defineCommand<{ file: string; uri: NovaNamespace }>({
  name: 'render',
  describe: 'print the <nova:ports> element for a network_info file (every VIF)',
  positionals: [{ name: 'file', describe: 'network_info JSON, - for stdin', default: '-' }],
  options: {
    uri: { type: 'string', choices: [NOVA_NS.v1_1, NOVA_NS.v1_0], default: NOVA_NS.v1_1, describe: "nova's namespace URI" },
  },
  lean: true,
  run: async (args, io) => (await import('./run')).run(args, io),
});
