import { JSON_OPTION, OPENSTACK_OPTIONS, SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'reconcile',
  describe: 'write the cached ports into every domain (or --domain) whose XML differs',
  positionals: [],
  options: {
    domain: { type: 'string', valueName: 'DOMAIN', multiple: true, describe: 'only this domain (name or UUID)' },
    'dry-run': { type: 'boolean', describe: 'write nothing; print the difference port by port' },
    check: { type: 'boolean', describe: 'a monitoring plugin (Nagios, Icinga, NRPE): write nothing, print one status line with perfdata, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN' },
    warning: { type: 'string', short: 'w', valueName: 'RANGE', default: '0', describe: 'with --check: WARNING when the number of drifted instances is outside RANGE (Monitoring Plugins range; 0: from 1)' },
    critical: { type: 'string', short: 'c', valueName: 'RANGE', describe: 'with --check: CRITICAL when the number of drifted instances is outside RANGE (default: drift alone never is; errors are)' },
    textfile: { type: 'string', valueName: 'FILE', describe: "write this run's node_exporter textfile metrics to this .prom file (every domain, not with --check)" },
    wait: { type: 'number', valueName: 'SECONDS', describe: 'how long to wait for another run holding the lock (default 300; 5 with --check)' },
    sync: { type: 'boolean', describe: 'run `cache sync` (Neutron) first; a failure is reported, the cache still reconciled, exit 3' },
    'auto-sync': { type: 'boolean', describe: "as --sync when Neutron credentials are found (clouds.yaml, OS_*, [neutron], nova-compute's config), else no sync: what the timer runs" },
    ...OPENSTACK_OPTIONS,
    ...JSON_OPTION,
    ...SETTINGS_OPTIONS,
  },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
