import { JSON_OPTION, SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'cache put',
  describe: "store an instance's network_info (validated; replaced atomically)",
  positionals: [
    { name: 'uuid', describe: 'instance UUID (the domain UUID)', required: true },
    { name: 'file', describe: 'network_info JSON, - for stdin', default: '-' },
  ],
  options: { ...JSON_OPTION, ...SETTINGS_OPTIONS },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
