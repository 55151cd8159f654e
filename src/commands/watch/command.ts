import { defineCommand } from '../../cli/command';
import type { Args } from './run';

export const watchCommand = defineCommand<Args>({
  name: 'watch',
  describe: 'a service: reconcile each domain when libvirt reports a change to it or its cache file changes',
  options: {
    verbose: { type: 'boolean', default: false, describe: 'also log the events acted on and the reconciles that changed nothing' },
    debounce: { type: 'number', default: 250, describe: 'milliseconds a domain must stay quiet before it is reconciled' },
  },
  run: async (args, io) => (await import('./run')).run(args, io),
});
