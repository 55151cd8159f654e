import { JSON_OPTION, SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'show',
  describe: "one instance's ports and addresses (its live definition if it runs)",
  positionals: [{ name: 'domain', describe: "domain name or UUID, or nova's instance name" }],
  options: {
    xml: { type: 'string', valueName: 'FILE', describe: 'read a domain XML file (- for stdin) instead of libvirt' },
    ...JSON_OPTION,
    ...SETTINGS_OPTIONS,
  },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
