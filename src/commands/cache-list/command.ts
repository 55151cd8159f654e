import { LISTING_OPTIONS, SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'cache list',
  describe: 'every stored network_info: ports, addresses, age; invalid files with their error',
  positionals: [],
  options: { ...LISTING_OPTIONS, ...SETTINGS_OPTIONS },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
