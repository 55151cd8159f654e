import { JSON_OPTION, SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'doctor',
  describe: 'check the installation: hook (and whether libvirt runs it), versions, state, cache, services (exit 1: a problem)',
  positionals: [],
  options: {
    'hooks-dir': { type: 'string', valueName: 'DIR', describe: "libvirt's hooks directory (default /etc/libvirt/hooks)" },
    ...JSON_OPTION,
    ...SETTINGS_OPTIONS,
  },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
