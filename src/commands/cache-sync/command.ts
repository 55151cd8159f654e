import { JSON_OPTION, OPENSTACK_OPTIONS, SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'cache sync',
  describe: "fetch every instance's ports and IPs from Neutron (only what changed, between full syncs); write the files that changed",
  positionals: [],
  options: {
    'dry-run': { type: 'boolean', describe: 'fetch and validate, write nothing: say which files would change' },
    full: { type: 'boolean', describe: 'ask Neutron about every instance, not only what changed since the last sync' },
    ...OPENSTACK_OPTIONS,
    ...JSON_OPTION,
    ...SETTINGS_OPTIONS,
  },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
