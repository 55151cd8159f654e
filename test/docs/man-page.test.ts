/**
 * nova-ipmeta(8) against the program: every command of src/cli/commands.ts has its own `.SS`
 * entry under COMMANDS naming its positionals and options; every global option, environment
 * variable, config key, metric and outcome is there; and man(1) and groff render it without a
 * warning.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SETTINGS_OPTIONS } from '../../src/cli/options';
import { commands } from '../../src/cli/commands';
import { OUTCOME_KINDS } from '../../src/usecases/reconcile/outcome';

const MAN = fileURLToPath(new URL('../../packaging/man/nova-ipmeta.8', import.meta.url));
const repoFile = (p: string) => readFileSync(fileURLToPath(new URL(`../../${p}`, import.meta.url)), 'utf8');
const source = readFileSync(MAN, 'utf8');

/** The roff source as text: escapes and font changes gone, `\-` a plain hyphen. */
function plain(roff: string): string {
  return roff
    .replace(/\\f[BIRP]/g, '')
    .replace(/\\-/g, '-')
    .replace(/\\&/g, '')
    .replace(/\\%/g, '');
}

/** The source lines of one `.SH` section, up to the next. */
function section(name: string): string {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => l === `.SH ${name}` || l === `.SH "${name}"`);
  assert.ok(start >= 0, `no .SH ${name} section`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('.SH '));
  return plain(lines.slice(start + 1, end < 0 ? undefined : end).join('\n'));
}

/** COMMANDS split at its `.SS` entries: heading (plain, without quotes) → body. */
function commandEntries(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const chunk of section('COMMANDS').split(/^\.SS /m).slice(1)) {
    const [heading = '', ...body] = chunk.split('\n');
    entries.set(heading.replace(/^"|"$/g, ''), body.join('\n'));
  }
  return entries;
}

function entryOf(name: string): { heading: string; body: string } {
  for (const [heading, body] of commandEntries()) {
    if (heading === name || heading.startsWith(`${name} `)) return { heading, body };
  }
  throw new Error(`the man page has no .SS entry for the command "${name}"`);
}

test('every command of the CLI has its entry, with its positionals and options', () => {
  assert.ok(commands.length >= 10, 'the command list was read');
  for (const { spec: c } of commands) {
    const { heading, body } = entryOf(c.name);
    for (const p of c.positionals) {
      assert.ok(heading.toUpperCase().includes(p.name.toUpperCase()), `${c.name}: positional ${p.name} not in its heading "${heading}"`);
    }
    // The settings options are documented once, under OPTIONS (next test).
    for (const option of Object.keys(c.options).filter((o) => !(o in SETTINGS_OPTIONS))) {
      assert.ok(new RegExp(`^\\.(?:B|BI|BR) .*--${option}\\b`, 'm').test(body), `${c.name}: option --${option} is not an entry (.B/.BI --${option}) of its section`);
    }
  }
});

test('the entries are exactly the commands (no command the CLI lacks)', () => {
  const names = new Set(commands.map((c) => c.spec.name));
  for (const heading of commandEntries().keys()) {
    const name = heading.split(' [')[0]?.replace(/ [A-Z][A-Z-]*.*$/, '') ?? heading;
    assert.ok(names.has(name), `the man page documents "${name}", which src/cli/commands.ts does not have`);
  }
});

test('every global option, with its environment variable and default', () => {
  const options = section('OPTIONS');
  for (const [name, spec] of Object.entries(SETTINGS_OPTIONS)) {
    assert.ok(new RegExp(`^\\.(?:B|BI|BR) --${name}\\b`, 'm').test(options), `global option --${name} missing from OPTIONS`);
    for (const word of spec.describe.match(/\b[A-Z][A-Z_]{3,}\b|\/[\w./-]+/g) ?? []) {
      assert.ok(options.includes(word), `--${name}: "${word}" (from its help text) missing from OPTIONS`);
    }
  }
  for (const flag of ['--help', '--version']) assert.ok(options.includes(flag), `${flag} missing`);
});

test('every environment variable the program, the hook and the periodic reconcile read', () => {
  const env = section('ENVIRONMENT');
  const settings = repoFile('src/adapters/settings.ts');
  const read = [
    ...[...settings.matchAll(/env\.([A-Z_]+)/g)].map((m) => m[1]),
    ...[...repoFile('packaging/lib/periodic-reconcile').matchAll(/\$\{(NOVA_IPMETA_[A-Z_]+)/g)].map((m) => m[1]),
  ];
  assert.ok(read.length >= 3, 'the variables were found in the code');
  for (const v of read) assert.ok(env.includes(v ?? '?'), `environment variable ${v} missing from ENVIRONMENT`);
  for (const v of repoFile('hooks/qemu').match(/^NOVA_IPMETA\w*(?==)/gm) ?? []) assert.ok(env.includes(`${v}=`), `hook variable ${v} missing`);
});

test('every config key of the shipped config file, under its section', () => {
  const conf = section('CONFIGURATION');
  let current = '';
  let keys = 0;
  for (const line of repoFile('packaging/etc/nova-ipmeta.conf').split('\n')) {
    const s = /^\[(\w+)\]/.exec(line);
    if (s) current = s[1] ?? '';
    const k = /^#(\w+) =/.exec(line);
    if (k) {
      keys++;
      assert.ok(conf.includes(`[${current}] ${k[1]}`), `config key [${current}] ${k[1]} missing from CONFIGURATION`);
    }
  }
  assert.ok(keys >= 4);
});

test('every exit code, reconcile outcome and metric', () => {
  const exit = section('EXIT STATUS');
  for (const code of ['0', '1', '2', '3']) assert.match(exit, new RegExp(`^\\.B ${code}$`, 'm'));
  const reconcile = entryOf('reconcile').body;
  for (const kind of OUTCOME_KINDS) assert.ok(new RegExp(`^\\.B ${kind}$`, 'm').test(reconcile), `outcome ${kind} missing`);
  const metrics = section('METRICS');
  const names = new Set(repoFile('src/usecases/reconcile/metrics-exposition.ts').match(/nova_ipmeta_\w+/g));
  assert.ok(names.size >= 6);
  for (const n of names) assert.ok(metrics.includes(n), `metric ${n} missing from METRICS`);
});

test('the files install.sh installs are named', () => {
  const files = section('FILES');
  for (const path of ['/usr/sbin/nova-ipmeta', '/usr/lib/nova-ipmeta/', '/etc/nova-ipmeta/nova-ipmeta.conf', '/var/lib/nova-ipmeta/', '/etc/libvirt/hooks/qemu.d/nova-ipmeta', '/etc/cron.d/nova-ipmeta', 'nova-ipmeta-watch.service', 'nova-ipmeta-reconcile.timer', 'reconcile.lock', 'hook.log', 'install-manifest']) {
    assert.ok(files.includes(path), `${path} missing from FILES`);
  }
});

function render(argv: string[]): { code: number; stderr: string; stdout: string } {
  const r = spawnSync(argv[0] ?? 'false', argv.slice(1), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8', MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' } });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stderr: r.stderr, stdout: r.stdout };
}

test('groff renders it without a warning', () => {
  const r = render(['groff', '-man', '-ww', '-Tutf8', '-z', MAN]);
  assert.is(r.stderr, '');
  assert.is(r.code, 0);
});

test('man -l renders it without a warning, every command in the text', () => {
  const r = render(['man', '--warnings', '-l', MAN]);
  assert.is(r.stderr, '');
  assert.is(r.code, 0);
  assert.match(r.stdout, /^NOVA-IPMETA\(8\)/);
  for (const { spec } of commands) assert.match(r.stdout, new RegExp(`^ {3}${spec.name}\\b`, "m"));
});

test.run();
