import { SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'cache rm',
  describe: "remove an instance's stored network_info (its ports are then left as they are)",
  positionals: [{ name: 'uuid', describe: 'instance UUID', required: true }],
  options: {
    force: { type: 'boolean', describe: 'no error when there is nothing to remove' },
    ...SETTINGS_OPTIONS,
  },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
