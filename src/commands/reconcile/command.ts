import { defineCommand } from '../../cli/command';
import type { ReconcileArgs } from './run';
import { OPENSTACK_OPTIONS } from '../cache/commands';

export const reconcileCommand = defineCommand<ReconcileArgs>({
  name: 'reconcile',
  describe: 'write the cached ports into every domain (or --domain) whose XML differs',
  options: {
    domain: { type: 'string', array: true, describe: 'only this domain (name or UUID); repeatable' },
    'dry-run': { type: 'boolean', default: false, describe: 'write nothing; print the difference port by port' },
    check: { type: 'boolean', default: false, describe: 'exit 1 when any domain drifted (for Nagios-style checks)' },
    textfile: { type: 'string', describe: 'write node_exporter textfile metrics to this .prom file' },
    wait: { type: 'number', default: 300, describe: 'seconds to wait for another run holding the lock' },
    sync: { type: 'boolean', default: false, describe: 'run `cache sync` (Neutron) first; a failure is reported, the cache still reconciled, exit 3' },
    ...OPENSTACK_OPTIONS,
  },
  // Loaded on use: the virsh session pulls in execa, which the lean commands must not pay for.
  run: async (args, io) => (await import('./run')).runReconcile(args, io),
});
