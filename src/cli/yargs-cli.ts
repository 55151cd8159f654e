/** The CLI as yargs sees it, built from the same command declarations the lean parser reads. */
import yargs, { type Argv, type Options, type PositionalOptions } from 'yargs';
import { InputError } from '../errors';
import type { Io } from '../io';
import { GLOBAL_OPTIONS, type AnyCommand, type OptionSpec } from './command';
import { commands } from './commands';

const ABOUT = "Writes OpenStack instance port IPs into nova's libvirt domain metadata and keeps them true.";

function toYargs(spec: OptionSpec): Options {
  return {
    type: spec.type,
    describe: spec.describe,
    ...(spec.default !== undefined && { default: spec.default }),
    ...(spec.choices && { choices: [...spec.choices] }),
    ...(spec.array && { array: true }),
  };
}

function signature(c: AnyCommand): string {
  const word = c.name.split(' ').pop() ?? c.name;
  const pos = (c.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`));
  return [word, ...pos].join(' ');
}

function build(y: Argv, c: AnyCommand, onRun: (args: unknown) => Promise<void>): void {
  y.command(
    signature(c),
    c.describe,
    (sub) => {
      for (const p of c.positionals ?? []) {
        const opts: PositionalOptions = { type: 'string', describe: p.describe };
        if (p.default !== undefined) opts.default = p.default;
        sub.positional(p.name, opts);
      }
      for (const [name, spec] of Object.entries(c.options ?? {})) sub.option(name, toYargs(spec));
      return sub;
    },
    onRun,
  );
}

export async function runYargs(argv: readonly string[], io: Io): Promise<number> {
  let exitCode: number | undefined;
  let output = '';
  const parser = yargs([...argv])
    .scriptName('nova-ipmeta')
    .usage(`$0 <command> [options]\n\n${ABOUT}`)
    .options(Object.fromEntries(Object.entries(GLOBAL_OPTIONS).map(([n, s]) => [n, toYargs(s)])))
    .strict()
    .demandCommand(1, 'name a command')
    .help()
    .version(typeof NOVA_IPMETA_VERSION === 'string' ? NOVA_IPMETA_VERSION : 'development')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message: string | undefined, err: Error | undefined) => {
      if (err) throw err;
      throw new InputError('usage', `${message ?? 'bad arguments'} (see nova-ipmeta --help)`);
    });
  const run = (c: AnyCommand) => async (args: unknown) => {
    exitCode = await c.run(args as never, io);
  };
  const groups = new Map<string, AnyCommand[]>();
  for (const c of commands) {
    const [group, word] = c.name.split(' ');
    if (word === undefined) build(parser, c, run(c));
    else groups.set(group ?? '', [...(groups.get(group ?? '') ?? []), c]);
  }
  for (const [group, members] of groups) {
    parser.command(`${group} <command>`, `${group}: ${members.map((m) => m.name.split(' ')[1]).join(', ')}`, (sub) => {
      for (const c of members) build(sub, c, run(c));
      return sub.demandCommand(1, `name a ${group} command`);
    });
  }
  await parser.parseAsync([...argv], {}, (_err, _argv, text) => {
    output = text;
  });
  // --help and --version end here with the text yargs produced and did not print itself.
  if (exitCode === undefined) {
    if (output) io.out(`${output}\n`);
    return 0;
  }
  return exitCode;
}
