import { defineCommand, type ArgsOf, type CommandSpec } from '../../cli/spec';

export const spec = {
  name: 'completion',
  describe: 'print the bash completion script (installed as /usr/share/bash-completion/completions/nova-ipmeta)',
  positionals: [{ name: 'shell', describe: 'the shell: bash', default: 'bash' }],
  options: {},
} as const satisfies CommandSpec;
export type Args = ArgsOf<typeof spec>;
export const command = defineCommand(spec, () => import('./run'));
