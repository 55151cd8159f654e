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
    warning: { type: 'number', valueName: 'N', default: 1, describe: 'with --check: WARNING from this many drifted instances' },
    critical: { type: 'number', valueName: 'N', describe: 'with --check: CRITICAL from this many drifted instances (default: never for drift; errors are CRITICAL)' },
    textfile: { type: 'string', valueName: 'FILE', describe: 'write node_exporter textfile metrics to this .prom file' },
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
