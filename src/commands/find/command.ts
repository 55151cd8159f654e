import { LISTING_OPTIONS, SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'find',
  describe: 'which instance and port hold an address, a MAC, a port, a tap device; or an instance by UUID or name (exit 1: none)',
  positionals: [
    {
      name: 'what',
      describe: "an IP address (any textual form), a MAC, a port UUID, a tap device, an instance UUID, nova's name of the instance or its domain name",
      required: true,
    },
  ],
  options: { ...LISTING_OPTIONS, ...SETTINGS_OPTIONS },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
