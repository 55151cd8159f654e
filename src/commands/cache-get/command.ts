import { SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'cache get',
  describe: "print an instance's stored network_info, as it was put (exit 1: none)",
  positionals: [{ name: 'uuid', describe: 'instance UUID', required: true }],
  options: { ...SETTINGS_OPTIONS },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
