import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

/**
 * The engine behind hooks/qemu for the two operations whose stdout replaces the domain XML. Its
 * words are libvirt's, always all four: src/main.ts hands them to ./run before the CLI loads.
 */
export const spec = {
  name: 'hook',
  describe: "the libvirt hook's engine for migrate and restore: the domain XML on stdin, rewritten on stdout",
  positionals: [
    { name: 'domain', describe: 'the domain name libvirt passes', required: true },
    { name: 'operation', describe: 'migrate or restore (anything else: nothing is done)', required: true },
    { name: 'sub-operation', describe: "libvirt's sub-operation (begin)", default: '-' },
    { name: 'extra', describe: "libvirt's extra argument", default: '-' },
  ],
  options: {},
  hidden: true,
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
