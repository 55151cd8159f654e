import { defineCommand } from '../../cli/command';
import type { SettingFlags } from '../../adapters/settings';

export const showCommand = defineCommand<SettingFlags & { domain?: string; xml?: string; json: boolean }>({
  name: 'show',
  describe: "one instance's ports and addresses (its live definition if it runs)",
  positionals: [{ name: 'domain', describe: "domain name or UUID, or nova's instance name" }],
  options: { xml: { type: 'string', describe: 'read a domain XML file (- for stdin) instead of libvirt' } },
  lean: true,
  run: async (args, io) => (await import('./run')).run(args, io),
});
