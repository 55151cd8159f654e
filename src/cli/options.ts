/**
 * Option groups shared by several commands, each declared once. A command's declaration spreads
 * the groups it uses, so its help and its argument type list exactly what it reads.
 */
import type { OptionSpec } from './spec';

/** Where things are and which daemon to talk to (adapters/settings.ts): flags win over environment, environment over the config file. */
export const SETTINGS_OPTIONS = {
  connect: { type: 'string', valueName: 'URI', describe: 'libvirt URI (env LIBVIRT_DEFAULT_URI; config [libvirt] connection_uri)' },
  'state-dir': { type: 'string', valueName: 'DIR', describe: 'state directory (env NOVA_IPMETA_STATE_DIR; default /var/lib/nova-ipmeta)' },
  config: { type: 'string', valueName: 'FILE', describe: 'config file (env NOVA_IPMETA_CONFIG; default /etc/nova-ipmeta/nova-ipmeta.conf)' },
  'live-xml-dir': { type: 'string', valueName: 'DIR', allowEmpty: true, describe: "libvirt's live domain XML directory (default /run/libvirt/qemu); empty: none" },
  'persistent-xml-dir': { type: 'string', valueName: 'DIR', allowEmpty: true, describe: "libvirt's persistent domain XML directory (default /etc/libvirt/qemu); empty: none" },
} as const satisfies Record<string, OptionSpec>;

/** Machine-readable output, for commands that print one document. */
export const JSON_OPTION = {
  json: { type: 'boolean', describe: 'machine-readable output (JSON)' },
} as const satisfies Record<string, OptionSpec>;

export const OUTPUT_FORMATS = ['table', 'json', 'csv', 'value'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The listing commands' output, as the OpenStack CLI shapes it. */
export const LISTING_OPTIONS = {
  format: { type: 'string', short: 'f', valueName: 'FORMAT', choices: OUTPUT_FORMATS, default: 'table', describe: 'output format (value: the values alone, no header)' },
  column: { type: 'string', short: 'c', valueName: 'COLUMN', multiple: true, describe: 'show only this column; columns come in the order given' },
  json: { type: 'boolean', describe: 'the same as --format json' },
} as const satisfies Record<string, OptionSpec>;

/** Credentials come from clouds.yaml, OS_* or config files; no option takes a secret (argv is public). */
export const OPENSTACK_OPTIONS = {
  'os-cloud': { type: 'string', valueName: 'NAME', describe: 'the cloud of clouds.yaml to use (env OS_CLOUD)' },
  'os-cacert': { type: 'string', valueName: 'FILE', describe: 'CA bundle to verify Keystone and Neutron with (env OS_CACERT)' },
} as const satisfies Record<string, OptionSpec>;
