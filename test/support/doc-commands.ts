/**
 * The nova-ipmeta command lines a document shows (README.md, the admin guide), checked against the
 * CLI's own declarations: the command exists, every option is one of its own, the positionals fit.
 * Nothing is run: `nova-ipmeta find ADDRESS` is checked with ADDRESS as a word.
 *
 * Found: code spans and code-block lines that start with `nova-ipmeta ` (after an optional `$ `,
 * `sudo ` or `in_demo `), up to a shell operator; and the first cell of a table whose heading row
 * starts with `| command`, which names a command without the program name. A synopsis in a
 * table cell may use `[...]` for optional parts and `a\|b` for alternatives: each alternative is
 * checked, with and without the optional parts.
 */
import { commands } from '../../src/cli/commands';
import { parseCommandLine } from '../../src/cli/parse';
import type { Command } from '../../src/cli/spec';

export interface DocInvocation {
  readonly line: number;
  readonly text: string;
  readonly argv: readonly string[];
}

const PREFIX = /^(?:\$ )?(?:sudo )?(?:in_demo )?nova-ipmeta (.*)$/;

export function invocationsIn(markdown: string): DocInvocation[] {
  const found: DocInvocation[] = [];
  let block: string[] | undefined;
  let blockStart = 0;
  let commandTable = false;
  markdown.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.startsWith('```')) {
      if (block === undefined) {
        block = [];
        blockStart = line + 1;
        return;
      }
      // A block that shows a session (`$ command`, then output) has commands only on `$ ` lines.
      const session = block.some((l) => l.startsWith('$ '));
      block.forEach((l, j) => {
        const m = (session && !l.startsWith('$ ')) ? undefined : PREFIX.exec(l.trim());
        if (m?.[1] !== undefined) found.push(...expand(blockStart + j, m[1]));
      });
      block = undefined;
      return;
    }
    if (block !== undefined) {
      block.push(raw);
      return;
    }
    if (/^\| *command *\|/i.test(raw)) commandTable = true;
    else if (!raw.startsWith('|')) commandTable = false;
    else if (commandTable && !/^\|[\s|:-]+$/.test(raw)) {
      const cell = /^\| *`([^`]+)`/.exec(raw)?.[1];
      for (const alternative of cell?.split(/`\s*\/\s*`/) ?? []) found.push(...expand(line, alternative));
    }
    for (const span of raw.matchAll(/`([^`]+)`/g)) {
      const m = PREFIX.exec(span[1] ?? '');
      if (m?.[1] !== undefined) found.push(...expand(line, m[1]));
    }
  });
  return found;
}

/** One synopsis to concrete argv lists: alternatives split, optional parts in and out. */
function expand(line: number, synopsis: string): DocInvocation[] {
  const text = commandPart(synopsis);
  const variants = new Set<string>();
  const walk = (s: string): void => {
    const open = s.indexOf('[');
    if (open < 0) {
      // `a\|b` offers alternatives for that one word.
      let lines = [''];
      for (const word of s.split(/\s+/).filter(Boolean)) lines = lines.flatMap((l) => splitAlternatives(word).map((alt) => `${l} ${alt}`));
      for (const l of lines) variants.add(l.trim());
      return;
    }
    let depth = 0;
    let close = open;
    for (; close < s.length; close++) {
      if (s[close] === '[') depth++;
      else if (s[close] === ']' && --depth === 0) break;
    }
    walk(s.slice(0, open) + s.slice(close + 1));
    walk(`${s.slice(0, open)} ${s.slice(open + 1, close)} ${s.slice(close + 1)}`);
  };
  walk(text);
  return [...variants].map((v) => ({ line, text, argv: words(v) }));
}

/** The command up to the first shell operator (`;`, `|`, `&`, `>`, `<`, a `#` comment) outside quotes; `\|` is an alternative. */
function commandPart(s: string): string {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (';|&><'.includes(c) || (c === '#' && (i === 0 || s.charAt(i - 1) === ' '))) return s.slice(0, i).trim();
  }
  return s.trim();
}

function splitAlternatives(s: string): string[] {
  return s.split('\\|').map((a) => a.trim());
}

/** Shell-like words: quotes removed, `...` (a repeat marker) dropped. */
function words(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
    const w = m[1] ?? m[2] ?? m[3] ?? '';
    if (w !== '...' && w !== '…') out.push(w.replace(/\.\.\.$/, ''));
  }
  return out;
}

/** Why `argv` is not a valid nova-ipmeta command line, or undefined when it is. */
export function cliProblem(argv: readonly string[]): string | undefined {
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '--version')) return undefined;
  const [first = '', second] = argv;
  const two = commands.find((c) => c.spec.name === `${first} ${second ?? ''}`);
  const command: Command | undefined = two ?? commands.find((c) => c.spec.name === first);
  if (!command) return `no command ${JSON.stringify(argv.slice(0, 2).join(' '))}`;
  const rest = argv.slice(command.spec.name.split(' ').length).filter((a) => a !== '--help');
  // The command named alone, in prose ("fed with `nova-ipmeta cache put`"), is a mention.
  if (rest.length === 0) return undefined;
  // A placeholder value (`--debounce MS`) stands for a valid one.
  const concrete = rest.map((word, i) => {
    const option = /^--?([\w-]+)$/.exec(rest[i - 1] ?? '')?.[1];
    const spec = option === undefined ? undefined : Object.entries(command.spec.options).find(([name, o]) => name === option || (o.type !== 'boolean' && o.short === option))?.[1];
    if (!spec || !/^[A-Z][A-Z_-]*$/.test(word)) return word;
    if (spec.type === 'number') return '1';
    if (spec.type === 'string' && spec.choices) return spec.choices[0] ?? word;
    return word;
  });
  try {
    parseCommandLine(command.spec, concrete);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
