import { defineCommand } from '../../cli/command';
import type { DoctorArgs } from './run';

export const doctorCommand = defineCommand<DoctorArgs>({
  name: 'doctor',
  describe: 'check the installation: hook (and whether libvirt runs it), versions, state, cache, services (exit 1: a problem)',
  options: {
    'hooks-dir': { type: 'string', describe: "libvirt's hooks directory (default /etc/libvirt/hooks)" },
  },
  run: async (args, io) => (await import('./run')).run(args, io),
});
