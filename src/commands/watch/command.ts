import { SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'watch',
  describe: 'a service: reconcile each domain when libvirt reports a change to it or its cache file changes',
  positionals: [],
  options: {
    verbose: { type: 'boolean', describe: 'also log the events acted on and the reconciles that changed nothing' },
    debounce: { type: 'number', valueName: 'MS', default: 250, describe: 'milliseconds a domain must stay quiet before it is reconciled' },
    'metrics-listen': { type: 'string', valueName: 'ADDR', describe: "serve the watcher's and the last reconcile run's metrics at http://ADDR/metrics, ADDR an IP address and port such as 127.0.0.1:9949 (config [metrics] listen; default: not served)" },
    ...SETTINGS_OPTIONS,
  },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
