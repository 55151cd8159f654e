import { SETTINGS_OPTIONS } from '../../cli/options';
import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const SETUP_ACTIONS = [
  'check-hook',
  'place-hook',
  'remove-hook',
  'state-dir',
  'enable-services',
  'disable-services',
  'restart-libvirt',
  'restart-hint',
  'record',
  'uninstall',
  'purge',
  'libvirt-version',
] as const;

/**
 * What ties an installed nova-ipmeta into the host, for install.sh and the package's maintainer
 * scripts: the one place the hook's placement rules, the install manifest and the libvirt restart
 * live (doctor reads the same rules).
 */
export const spec = {
  name: 'setup',
  describe: "the installer's steps: place or remove the hook, the state directory, the services, the libvirt restart (install.sh and the package run it)",
  positionals: [{ name: 'action', describe: SETUP_ACTIONS.join(', '), required: true }],
  options: {
    'hooks-dir': { type: 'string', valueName: 'DIR', describe: "libvirt's hooks directory (default /etc/libvirt/hooks)" },
    'libvirt-version': { type: 'string', valueName: 'VERSION', describe: 'take libvirt to be this version instead of asking libvirtd, virtqemud or virsh' },
    libdir: { type: 'string', valueName: 'DIR', describe: "where the hook's source hooks/qemu is (default: the program's own directory)" },
    purge: { type: 'boolean', describe: 'with uninstall: remove the config file and the state directory as well' },
    ...SETTINGS_OPTIONS,
  },
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
