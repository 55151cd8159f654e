import { NOVA_NS } from '../../core/nova-namespace';
import { JSON_OPTION } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'render',
  describe: 'print the <nova:ports> element for a network_info file (every VIF)',
  positionals: [{ name: 'file', describe: 'network_info JSON, - for stdin', default: '-' }],
  options: {
    uri: { type: 'string', valueName: 'URI', choices: [NOVA_NS.v1_1, NOVA_NS.v1_0], default: NOVA_NS.v1_1, describe: "nova's namespace URI" },
    ...JSON_OPTION,
  },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
