/**
 * The admin CLI: finds the command named by argv's leading words among `commands` (every command,
 * or a bundle program's share of them: scripts/bundle-layout.mjs, PROGRAMS), answers `--help` from its
 * declaration, parses the rest, and runs it. Errors go up to runMain, which alone maps them.
 */
import { BUILD } from '../build-info';
import { UsageError, quote } from '../errors';
import type { Io } from '../io';
import { ExitCode } from '../exit-code';
import { commandHelp, groupHelp, programHelp } from './help';
import { SETTINGS_OPTIONS } from './options';
import { parseCommandLine } from './parse';
import type { Command } from './spec';

/** Options that may come before the command's name (`nova-ipmeta --connect URI list`), with whether they take a value. */
const LEADING_VALUE_OPTIONS = new Set(Object.keys(SETTINGS_OPTIONS).map((name) => `--${name}`));

export async function runCli(argv: readonly string[], io: Io, commands: readonly Command[]): Promise<ExitCode> {
  const { leading, words, rest } = split(commands, argv);
  if (words.length === 0) {
    const given = [...leading, ...rest];
    if (given.includes('--version')) {
      io.out(`${BUILD?.version ?? 'development'}\n`);
      return ExitCode.ok;
    }
    if (given.includes('--help') || given.includes('-h')) {
      io.out(programHelp(commands.map((c) => c.spec)));
      return ExitCode.ok;
    }
    throw new UsageError(rest.length ? `name a command before ${quote(rest[0])}` : 'name a command');
  }
  const args = [...leading, ...rest];
  const end = args.indexOf('--');
  const helpAsked = (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
  const [group] = words;
  if (helpAsked && words.length === 1 && group !== undefined && commands.some((c) => c.spec.name.startsWith(`${group} `))) {
    io.out(groupHelp(group, commands.map((c) => c.spec)));
    return ExitCode.ok;
  }
  const command = find(commands, words);
  if (helpAsked) {
    io.out(commandHelp(command.spec));
    return ExitCode.ok;
  }
  return command.invoke(parseCommandLine(command.spec, args), io);
}

/** The command named by `words` (a group and a word, or one word); positionals may follow. */
function find(commands: readonly Command[], words: readonly string[]): Command {
  const [first = '', second] = words;
  const two = second === undefined ? undefined : commands.find((c) => c.spec.name === `${first} ${second}`);
  if (two) return two;
  const one = commands.find((c) => c.spec.name === first);
  if (one) return one;
  const group = commands.filter((c) => c.spec.name.startsWith(`${first} `));
  if (group.length > 0) {
    const names = group.map((c) => c.spec.name.slice(first.length + 1)).join(', ');
    if (second === undefined) throw new UsageError(`name one of its commands: ${names}`, first);
    throw new UsageError(`unknown command ${quote(second)}; ${first} commands: ${names}`, first);
  }
  throw new UsageError(`unknown command ${quote(first)}`);
}

/**
 * argv as: options before the command name (only the settings options may come there, so that
 * their values are not taken for the name), the command's words, and everything after them.
 */
function split(commands: readonly Command[], argv: readonly string[]): { leading: string[]; words: string[]; rest: string[] } {
  let i = 0;
  const leading: string[] = [];
  while (i < argv.length && argv[i]?.startsWith('-') && argv[i] !== '--') {
    const option = argv[i] ?? '';
    leading.push(option);
    i++;
    if (LEADING_VALUE_OPTIONS.has(option) && i < argv.length) leading.push(argv[i++] ?? '');
  }
  const words: string[] = [];
  // A group name takes the next word as its command; a plain command takes none.
  const first = argv[i];
  if (first !== undefined && !first.startsWith('-')) {
    words.push(first);
    i++;
    const isGroup = commands.some((c) => c.spec.name.startsWith(`${first} `));
    const next = argv[i];
    if (isGroup && next !== undefined && !next.startsWith('-')) {
      words.push(next);
      i++;
    }
  }
  return { leading, words, rest: argv.slice(i) };
}
