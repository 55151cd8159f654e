import { defineCommand } from '../../cli/command';
import type { SettingFlags } from '../../adapters/settings';

export const listCommand = defineCommand<SettingFlags & { json: boolean; csv: boolean }>({
  name: 'list',
  describe: 'every instance on this host, one row per address (table, --json, --csv)',
  options: { csv: { type: 'boolean', default: false, describe: 'CSV output' } },
  lean: true,
  run: async (args, io) => (await import('./run')).run(args, io),
});
