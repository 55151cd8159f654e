import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'inject',
  describe: 'print the domain XML with the desired <nova:ports> in place',
  positionals: [
    { name: 'domain-xml', describe: 'domain XML file, - for stdin', required: true },
    { name: 'network-info', describe: 'network_info JSON file, - for stdin', required: true },
  ],
  options: {},
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
