/** The one parser, the help and the completion, all made from command declarations. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commands } from '../../src/cli/commands';
import { bashCompletion, commandHelp, programHelp } from '../../src/cli/help';
import { parseCommandLine } from '../../src/cli/parse';
import type { CommandSpec } from '../../src/cli/spec';
import { UsageError } from '../../src/errors';
import { runInProcess } from '../support/cli';

const SPEC = {
  name: 'demo',
  describe: 'a command for the parser',
  positionals: [
    { name: 'first-thing', describe: 'the first', required: true },
    { name: 'second', describe: 'the second', default: '-' },
  ],
  options: {
    flag: { type: 'boolean', describe: 'a flag' },
    'max-count': { type: 'number', default: 3, describe: 'a number' },
    level: { type: 'string', choices: ['low', 'high'], describe: 'a choice' },
    item: { type: 'string', short: 'i', multiple: true, describe: 'an item' },
  },
} as const satisfies CommandSpec;

function usage(argv: string[]): string {
  try {
    parseCommandLine(SPEC, argv);
  } catch (err) {
    assert.instance(err, UsageError);
    return (err as UsageError).message;
  }
  throw new Error(`${argv.join(' ')} parsed`);
}

test('values by declaration: camelCase names, defaults, numbers, choices, repeatable options', () => {
  assert.equal(parseCommandLine(SPEC, ['a']), { flag: false, maxCount: 3, level: undefined, item: [], firstThing: 'a', second: '-' });
  assert.equal(parseCommandLine(SPEC, ['a', 'b', '--flag', '--max-count', '7', '--level=high', '-i', 'x', '--item', 'y']), {
    flag: true,
    maxCount: 7,
    level: 'high',
    item: ['x', 'y'],
    firstThing: 'a',
    second: 'b',
  });
  // An option value that starts with a dash, and a positional after --.
  assert.equal(parseCommandLine(SPEC, ['--item=-x', '--', '--a']).item, ['-x']);
  assert.is(parseCommandLine(SPEC, ['--', '--a']).firstThing, '--a');
});

test('usage errors name the culprit', () => {
  assert.is(usage([]), 'missing FIRST-THING');
  assert.is(usage(['a', 'b', 'c']), 'unexpected argument "c"');
  assert.is(usage(['a', '--bogus']), 'unknown option --bogus');
  assert.is(usage(['a', '-z']), 'unknown option -z');
  assert.is(usage(['a', '--level']), '--level needs a value');
  assert.is(usage(['a', '--level', 'mid']), '--level: expected low, high; got "mid"');
  assert.is(usage(['a', '--max-count', 'ten']), '--max-count: expected a number, got "ten"');
  assert.is(usage(['a', '--max-count', '']), '--max-count: expected a number, got ""');
  assert.is(usage(['a', '--flag=yes']), '--flag takes no value');
  assert.is(usage(['a', '--item', '--flag']), '--item needs a value (one that starts with a dash: --item=-X)');
  assert.is(usage(['a', '--item=']), '--item: an empty value');
  assert.is(usage(['a', '-i', 'x', '--item', '']), '--item: an empty value');
  assert.is(usage(['a', '--level=']), '--level: an empty value');
});

test('an empty value only where the declaration gives it a meaning', () => {
  const spec = { ...SPEC, options: { ...SPEC.options, dir: { type: 'string', allowEmpty: true, describe: 'empty: none' } } } as const satisfies CommandSpec;
  assert.is(parseCommandLine(spec, ['a', '--dir=']).dir, '');
});

test('reconcile --domain= (empty) is a usage error, never a run over every domain; --check makes it UNKNOWN', async () => {
  const state = mkdtempSync(join(tmpdir(), 'nova-ipmeta-parse-'));
  const where = ['--connect', 'test:///default', '--state-dir', state];
  for (const argv of [['reconcile', '--domain='], ['reconcile', '--domain', ''], ['reconcile', '--domain', 'test', '--domain=']]) {
    assert.equal(await runInProcess([...argv, ...where]), { code: 2, stdout: '', stderr: 'nova-ipmeta: reconcile: --domain: an empty value (see nova-ipmeta reconcile --help)\n' });
  }
  const check = await runInProcess(['reconcile', '--check', '--domain=', ...where]);
  assert.equal(check, { code: 3, stdout: 'NOVA-IPMETA UNKNOWN - --domain: an empty value\n', stderr: '' });
  rmSync(state, { recursive: true, force: true });
});

test('runMain: unknown command, a group without its command, options before the name, --help anywhere', async () => {
  const bad = await runInProcess(['frobnicate']);
  assert.equal(bad, { code: 2, stdout: '', stderr: 'nova-ipmeta: unknown command "frobnicate" (see nova-ipmeta --help)\n' });
  const group = await runInProcess(['cache']);
  assert.equal(group, { code: 2, stdout: '', stderr: 'nova-ipmeta: cache: name one of its commands: put, get, list, rm, sync (see nova-ipmeta cache --help)\n' });
  const wrong = await runInProcess(['cache', 'frob']);
  assert.match(wrong.stderr, 'cache: unknown command "frob"; cache commands: put, get, list, rm, sync');
  const none = await runInProcess([]);
  assert.equal(none, { code: 2, stdout: '', stderr: 'nova-ipmeta: name a command (see nova-ipmeta --help)\n' });
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-parse-'));
  try {
    // --state-dir before the command: its value is not taken for the command's name.
    const listed = await runInProcess(['--state-dir', join(dir, 'state'), 'cache', 'list', '-f', 'json']);
    assert.equal(listed, { code: 0, stdout: '[]\n', stderr: '' });
    const help = await runInProcess(['find', '10.0.0.1', '--help']);
    assert.is(help.code, 0);
    assert.match(help.stdout, /^Usage: nova-ipmeta find \[OPTION\]\.\.\. WHAT\n/);
    assert.equal(await runInProcess(['cache', '--help']), { code: 0, stdout: (await runInProcess(['cache', '-h'])).stdout, stderr: '' });
    // After --, --help is an argument, not a request for help.
    assert.is((await runInProcess(['render', '--', '--help'])).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('help: every visible command in the program help, every option and positional in its own', () => {
  const specs = commands.map((c) => c.spec);
  const text = programHelp(specs);
  for (const s of specs) {
    if (s.hidden) assert.not.match(text, `\n  ${s.name} `);
    else assert.match(text, `\n  ${s.name} `);
    const own = commandHelp(s);
    for (const p of s.positionals) assert.match(own, p.name.toUpperCase());
    for (const [name, o] of Object.entries(s.options)) {
      assert.match(own, `--${name}`);
      if (o.short) assert.match(own, `-${o.short}, --${name}`);
    }
  }
  const own = commandHelp(SPEC);
  assert.match(own, /^ {2}-i, --item VALUE +an item; repeatable$/m);
  assert.match(own, /^ {6}--max-count N +a number; default 3$/m);
  assert.match(own, /^ {6}--level VALUE +a choice \(low, high\)$/m);
  assert.match(own, /^Usage: nova-ipmeta demo \[OPTION\]\.\.\. FIRST-THING \[SECOND\]$/m);
});

test('bash completion: generated from the declarations, and bash itself completes with it', () => {
  const script = bashCompletion(commands.map((c) => c.spec));
  const complete = (line: string): string[] => {
    const words = line.split(' ');
    const r = spawnSync(
      'bash',
      ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nova_ipmeta; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { encoding: 'utf8' },
    );
    assert.is(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  assert.equal(complete('nova-ipmeta ca'), ['cache']);
  assert.equal(complete('nova-ipmeta cache s'), ['sync']);
  assert.equal(complete('nova-ipmeta find 10.0.0.1 --col'), ['--column']);
  assert.equal(complete('nova-ipmeta list -f '), ['csv', 'json', 'table', 'value']);
  assert.equal(complete('nova-ipmeta reconcile --dr'), ['--dry-run']);
  assert.ok(complete('nova-ipmeta ').includes('doctor'));
  assert.not.ok(complete('nova-ipmeta ').includes('hook'), 'hidden commands are not offered');
});

test('completion prints the script; another shell is bad input', async () => {
  const r = await runInProcess(['completion']);
  assert.is(r.code, 0);
  assert.match(r.stdout, 'complete -F _nova_ipmeta nova-ipmeta');
  assert.equal(await runInProcess(['completion', 'fish']), { code: 2, stdout: '', stderr: 'nova-ipmeta: shell: "fish": only bash completion is made\n' });
});

test('reconcile --check: a usage error is UNKNOWN, in the plugin line on stdout', async () => {
  assert.equal(await runInProcess(['reconcile', '--check', '--bogus']), { code: 3, stdout: 'NOVA-IPMETA UNKNOWN - unknown option --bogus\n', stderr: '' });
});

test.run();
