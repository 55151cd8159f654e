import { LISTING_OPTIONS, SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'history',
  describe: 'which instances held an address, a port or a MAC on this host, and when (exit 1: none)',
  positionals: [{ name: 'what', describe: 'an IP address (any textual form), a MAC, a port UUID, or an instance UUID (its addresses)', required: true }],
  options: {
    at: { type: 'string', valueName: 'TIME', describe: 'only who held it at this time' },
    since: { type: 'string', valueName: 'TIME', describe: 'only holdings that lasted until this time or later' },
    until: { type: 'string', valueName: 'TIME', describe: 'only holdings that began by this time' },
    ...LISTING_OPTIONS,
    ...SETTINGS_OPTIONS,
  },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
