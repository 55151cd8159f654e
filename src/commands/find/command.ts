import { LISTING_OPTIONS, SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'find',
  describe: 'which instance and port hold an address, fixed or floating (exit 1: none)',
  positionals: [{ name: 'address', describe: 'IPv4 or IPv6 address, in any textual form', required: true }],
  options: { ...LISTING_OPTIONS, ...SETTINGS_OPTIONS },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
