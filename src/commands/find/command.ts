import { defineCommand } from '../../cli/command';
import type { SettingFlags } from '../../adapters/settings';

export const findCommand = defineCommand<SettingFlags & { address: string; json: boolean; csv: boolean }>({
  name: 'find',
  describe: 'which instance and port hold an address, fixed or floating (exit 1: none)',
  positionals: [{ name: 'address', describe: 'IPv4 or IPv6 address, in any textual form', required: true }],
  options: { csv: { type: 'boolean', default: false, describe: 'CSV output' } },
  lean: true,
  run: async (args, io) => (await import('./run')).run(args, io),
});
