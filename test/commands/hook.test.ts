/**
 * The hook, without libvirt: `nova-ipmeta hook` (the migrate/restore filter) in-process and
 * through the built bundle on both Nodes, and hooks/qemu run as libvirt runs it, with stub
 * binaries where the point is what the shell does, and with the bundle where it is the whole path.
 * What must hold whatever happens: exit 0, and stdout empty unless the XML really changed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheStore } from '../../src/adapters/cache-store';
import { parseDomain } from '../../src/core/domain';
import { readPortsElement } from '../../src/core/ports-xml';
import { childElements, parseXml, serializeXml } from '../../src/core/xml-document';

import { commands } from '../../src/cli/commands';
import { runMain } from '../../src/main';
import { node18 } from '../../scripts/system-node.mjs';
import { BUNDLE, NODES, bundleCoverage, bundlePrograms, captureIo, fixturePath, programFor, type CoveredFunction } from '../support/cli';
import { hookEnv, installHook, runHookScript, shellQuote, writeBundleWrapper, writeScript, type HookPaths } from '../support/hook-install';

const fixture = (p: string) => readFileSync(fixturePath(p), 'utf8');
const DOMAIN = fixture('domains/pre-wallaby.xml');
const NOT_NOVA = fixture('domains/not-nova.xml');
const NAME = 'instance-0000002a';
const UUID = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
const NETWORK_INFO = fixture('network_info/two-ports.json');
const FILTER_OPS = ['migrate', 'restore'] as const;
/** Every other operation libvirt's qemu driver calls the hook with, and one it may add later. */
const IGNORED_OPS = ['prepare', 'start', 'stopped', 'release', 'attach', 'some-future-op'] as const;
const SUBOP: Record<string, string> = { stopped: 'end', release: 'end' };
const argvFor = (op: string, name = NAME) => [name, op, SUBOP[op] ?? 'begin', '-'];

const scratch = mkdtempSync(join(tmpdir(), 'nova-ipmeta-hook-test-'));
let counter = 0;
/** A fresh directory under the test's scratch directory (0700, as mkdtemp makes them). */
function freshDir(label: string): string {
  const dir = join(scratch, `${label}-${++counter}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** A state directory, its config file (state_dir only), and optionally a cached network_info. */
function stateWith(cache: 'two-ports' | 'none' | 'corrupt'): { state: string; config: string } {
  const state = freshDir('state');
  const config = join(state, 'nova-ipmeta.conf');
  writeFileSync(config, `[DEFAULT]\nstate_dir = ${state}\n\n[libvirt]\nconnection_uri = qemu:///system?socket=${state}/no-daemon-sock\n`);
  const store = new CacheStore(join(state, 'network_info'));
  if (cache === 'two-ports') store.put(UUID, NETWORK_INFO);
  if (cache === 'corrupt') {
    mkdirSync(store.dir, { mode: 0o700 });
    writeFileSync(store.path(UUID), '[{"id": "567a4527-b0e4-4d0a-bcc2-71fda37897f7", "addr', { mode: 0o600 });
  }
  return { state, config };
}

/** The ports the output XML carries, in the form readPortsElement gives. */
function portsIn(xml: string): unknown {
  return parseDomain(xml, 'output').nova?.ports;
}
const EXPECTED_PORTS = readPortsElement(parseXml(fixture('expected-two-ports.xml'), 'expected').documentElement as never);

/** The document without its <nova:ports>, whitespace between tags aside: what must not change. */
function withoutPorts(xml: string): string {
  const domain = parseDomain(xml, 'x');
  const nova = domain.nova?.element;
  for (const el of nova ? childElements(nova, nova.namespaceURI, 'ports') : []) el.parentNode?.removeChild(el);
  return serializeXml(domain.doc).replace(/>\s+</g, '><').trim();
}

function assertRewritten(stdout: string, label: string): void {
  assert.ok(stdout.endsWith('</domain>\n'), `${label}: a whole domain XML: ${stdout.slice(-200)}`);
  assert.equal(portsIn(stdout), EXPECTED_PORTS, label);
  assert.is(withoutPorts(stdout), withoutPorts(DOMAIN), `${label}: the rest of the domain is untouched`);
}

// ---------------------------------------------------------------------------------------------
// `nova-ipmeta hook` in-process

async function inProcess(argv: readonly string[], stdin: string, config: string) {
  const saved = { config: process.env.NOVA_IPMETA_CONFIG, state: process.env.NOVA_IPMETA_STATE_DIR };
  process.env.NOVA_IPMETA_CONFIG = config;
  delete process.env.NOVA_IPMETA_STATE_DIR;
  try {
    const io = captureIo(stdin);
    const code = await runMain(['hook', ...argv], io, commands);
    return { code, stdout: io.stdout, stderr: io.stderr, stdinRead: io.stdinRead };
  } finally {
    if (saved.config === undefined) delete process.env.NOVA_IPMETA_CONFIG;
    else process.env.NOVA_IPMETA_CONFIG = saved.config;
    if (saved.state !== undefined) process.env.NOVA_IPMETA_STATE_DIR = saved.state;
  }
}

for (const op of FILTER_OPS) {
  test(`in-process: ${op} with a cache prints the domain with its ports, and nothing once in sync`, async () => {
    const { config } = stateWith('two-ports');
    const r = await inProcess(argvFor(op), DOMAIN, config);
    assert.is(r.code, 0);
    assert.is(r.stderr, '');
    assertRewritten(r.stdout, op);
    const again = await inProcess(argvFor(op), r.stdout, config);
    assert.equal([again.code, again.stdout, again.stderr], [0, '', '']);
    // XML the lean reader leaves to the DOM (a declaration) is rewritten and found in sync alike.
    const declared = await inProcess(argvFor(op), `<?xml version="1.0"?>\n${DOMAIN}`, config);
    assert.equal([declared.code, declared.stderr, portsIn(declared.stdout)], [0, '', EXPECTED_PORTS], `${op}: declared`);
    const declaredAgain = await inProcess(argvFor(op), declared.stdout, config);
    assert.equal([declaredAgain.code, declaredAgain.stdout, declaredAgain.stderr], [0, '', ''], `${op}: declared, in sync`);
  });
}

test('in-process: nothing printed, exit 0, one log line, for every kind of trouble', async () => {
  const unreadable = stateWith('two-ports');
  chmodSync(unreadable.state, 0o777); // not to be trusted: refused as if unreadable (tests run as root)
  const notADir = stateWith('none');
  const fileAsState = join(notADir.state, 'a-file');
  writeFileSync(fileAsState, '');
  writeFileSync(notADir.config, `[DEFAULT]\nstate_dir = ${fileAsState}/state\n`);
  const badIni = stateWith('two-ports');
  writeFileSync(badIni.config, 'this is not = an ini file [\n');
  const cases: [string, string, string, RegExp][] = [
    ['no cache', DOMAIN, stateWith('none').config, /no cached network_info for 9d7e3c1a/],
    ['corrupt cache', DOMAIN, stateWith('corrupt').config, /network_info/],
    ['untrusted state directory', DOMAIN, unreadable.config, /./],
    ['state directory under a file', DOMAIN, notADir.config, /ENOTDIR|not a directory/],
    ['config file missing', DOMAIN, join(scratch, 'no-such.conf'), /no-such\.conf/],
    ['config file unparsable', DOMAIN, badIni.config, /./],
    ['malformed XML', '<domain><name>x</name><uuid>', stateWith('two-ports').config, /stdin/],
    ['not a domain', '<network/>', stateWith('two-ports').config, /stdin/],
    ['empty stdin', '', stateWith('two-ports').config, /stdin/],
  ];
  for (const [label, xml, config, why] of cases) {
    for (const op of FILTER_OPS) {
      const r = await inProcess(argvFor(op), xml, config);
      assert.is(r.code, 0, label);
      assert.is(r.stdout, '', label);
      assert.is(r.stderr.split('\n').length, 2, `${label}: one line: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^nova-ipmeta: hook ${op} "${NAME}": .*; libvirt keeps its XML\\n$`), label);
      assert.match(r.stderr, why, label);
    }
  }
});

test('in-process: a domain that is not nova\'s prints nothing and logs nothing', async () => {
  const { config } = stateWith('two-ports');
  for (const op of FILTER_OPS) {
    const r = await inProcess([NAME, op, 'begin', '-'], NOT_NOVA, config);
    assert.equal([r.code, r.stdout, r.stderr], [0, '', '']);
  }
});

test('in-process: other operations print nothing and do not read stdin', async () => {
  const { config } = stateWith('two-ports');
  for (const op of [...IGNORED_OPS, 'started', 'reconnect', '']) {
    const r = await inProcess(argvFor(op), DOMAIN, config);
    assert.equal([r.code, r.stdout, r.stderr, r.stdinRead], [0, '', '', false], op);
  }
  const none = await inProcess([], DOMAIN, config);
  assert.equal([none.code, none.stdout, none.stderr], [0, '', '']);
});

// ---------------------------------------------------------------------------------------------
// `nova-ipmeta hook` through the built bundle, as hooks/qemu runs it

function bundleHook(node: string, op: string, input: string, config: string, nodeOptions: readonly string[] = []) {
  const env = { ...hookEnv(), NOVA_IPMETA_CONFIG: config };
  return spawnSync(node, [...nodeOptions, BUNDLE, 'hook', ...argvFor(op)], { input, env, encoding: 'utf8' });
}

for (const [label, node] of NODES) {
  test(`${label}: bundle: migrate/restore print the rewritten XML, and nothing in every other case`, () => {
    const { config } = stateWith('two-ports');
    for (const op of FILTER_OPS) {
      const r = bundleHook(node, op, DOMAIN, config);
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stderr, '');
      assertRewritten(r.stdout, `${label} ${op}`);
      const again = bundleHook(node, op, r.stdout, config);
      assert.equal([again.status, again.stdout, again.stderr], [0, '', ''], 'in sync');
    }
    const cases: [string, string, string][] = [
      ['no cache', DOMAIN, stateWith('none').config],
      ['corrupt cache', DOMAIN, stateWith('corrupt').config],
      ['config missing', DOMAIN, join(scratch, 'no-such.conf')],
      ['malformed XML', '<domain', config],
      ['not nova', NOT_NOVA, config],
    ];
    for (const [what, xml, conf] of cases) {
      for (const op of FILTER_OPS) {
        const r = bundleHook(node, op, xml, conf);
        assert.equal([r.status, r.stdout], [0, ''], `${label} ${what} ${op}: ${r.stderr}`);
        assert.ok(r.stderr.split('\n').length <= 2, `${what}: at most one line: ${r.stderr}`);
      }
    }
    for (const op of [...IGNORED_OPS, 'started', 'reconnect']) {
      const r = bundleHook(node, op, DOMAIN, config);
      assert.equal([r.status, r.stdout, r.stderr], [0, '', ''], `${label} ${op}`);
    }
  });
}

/**
 * The hook path loads none of the CLI and starts no process (libvirt waits on it at every incoming
 * migration and restore). Statically: no value import reachable from the hook module, from the
 * bundle's hook program (src/hook-bin.ts), or from main.ts's static imports (which run before the
 * dispatch) is a CLI module, the process adapter, or node:child_process. At run time: the bundle
 * runs none of their code.
 */
const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function valueImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTypes =
        clause?.phaseModifier === ts.SyntaxKind.TypeKeyword ||
        (clause !== undefined && !clause.name && named !== undefined && ts.isNamedImports(named) && named.elements.every((e) => e.isTypeOnly));
      if (!allTypes) found.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1) {
      const [arg] = node.arguments;
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if ((isImport || isRequire) && arg && ts.isStringLiteral(arg)) found.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every package or builtin reachable from `entry` through value imports of local files. */
function reachablePackages(entry: string, staticOnly = false): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    const specs = staticOnly && file === entry ? valueImports(file).filter((s) => !new RegExp(`import\\(['"]${s}`).test(readFileSync(file, 'utf8'))) : valueImports(file);
    for (const spec of specs) {
      if (!spec.startsWith('.')) packages.add(spec);
      // A TypeScript module is imported without its extension; a CommonJS one (core/xmldom.cjs) with it.
      else queue.push(join(dirname(file), spec.endsWith('.cjs') ? spec : `${spec}.ts`));
    }
  }
  return { files, packages };
}

test('the hook path reaches neither the CLI nor any process (source import graph)', () => {
  const hook = reachablePackages(join(SRC, 'commands/hook/run.ts'));
  const main = reachablePackages(join(SRC, 'main.ts'), true);
  const hookProgram = reachablePackages(join(SRC, 'hook-bin.ts'));
  for (const { files, packages } of [hook, main, hookProgram]) {
    for (const p of packages) assert.is.not(p, 'node:child_process', 'the hook path can start a process');
    for (const f of files) {
      assert.ok(existsSync(f), `${f} exists (the walk resolved a real file)`);
      assert.not.ok(f.startsWith(join(SRC, 'cli/')), `the hook path loads the CLI: ${f}`);
      assert.not.ok(f.endsWith('adapters/process.ts') || f.includes('/adapters/virsh/'), `the hook path loads ${f}`);
    }
  }
  // The walk does see what it must: the cache, the core, xmldom; and the CLI is where the parser is.
  assert.ok(hook.packages.has('@xmldom/xmldom'), [...hook.packages].join(' '));
  assert.ok([...hook.files].some((f) => f.endsWith('adapters/cache-store.ts')));
  assert.ok(reachablePackages(join(SRC, 'cli/run-cli.ts')).files.has(join(SRC, 'cli/parse.ts')), 'the walk finds the parser behind the CLI');
  assert.ok(!main.files.has(join(SRC, 'cli/run-cli.ts')), 'main.ts loads the CLI only on demand');
  assert.ok(hookProgram.files.has(join(SRC, 'commands/hook/run.ts')) && hookProgram.files.has(join(SRC, 'warm-up/hook.ts')), 'the walk follows the hook program');
});

/** V8's precise coverage of one run of the bundle, as libvirt runs it: the functions of each program it compiled, by the program's text. */
function coverageOf(argv: readonly string[], input: string, env: NodeJS.ProcessEnv): (program: string) => CoveredFunction[] | undefined {
  return bundleCoverage(argv, freshDir('coverage'), { input, env: { ...hookEnv(), ...env } });
}

/**
 * Whether the bundle ran any code of a package, told by V8's precise coverage: each anchor is a
 * string literal of that package, and the code ran if any function around it (other than the
 * program's top level) was entered. esbuild wraps each bundled module in a lazy init function, so
 * a module that was never loaded shows an enclosing function with count 0; one that is not in the
 * program that ran cannot have run at all; the XML library's, not compiled, did not run.
 */
function packageCodeRan(argv: readonly string[], input: string, env: NodeJS.ProcessEnv, anchor: string): boolean {
  const covered = coverageOf(argv, input, env);
  const programs = bundlePrograms();
  const running = programs[programFor(argv)];
  const text = programs.xml.includes(anchor) ? programs.xml : running;
  const functions = covered(text);
  if (text === running) assert.ok(functions, 'coverage of the program');
  if (functions === undefined) return false;
  const offsets: number[] = [];
  for (let i = text.indexOf(anchor); i >= 0; i = text.indexOf(anchor, i + 1)) offsets.push(i);
  // Not the script, nor the CommonJS wrapper around the whole program: they always run.
  const always = (r: { startOffset: number; endOffset: number }) => r.startOffset <= 1 && r.endOffset >= text.length - 1;
  return functions.some(({ ranges: [whole] }) => whole !== undefined && !always(whole) && whole.count > 0 && offsets.some((o) => whole.startOffset <= o && o < whole.endOffset));
}

test('the built bundle runs no CLI or process code on the hook path (V8 coverage)', () => {
  const { config } = stateWith('two-ports');
  const cli = "name a command"; // src/cli/run-cli.ts
  const process = 'startProcess: empty command'; // src/adapters/process.ts
  // The hook's program holds neither; the whole program holds both, and runs them where due.
  const { whole, hook } = bundlePrograms();
  for (const anchor of [cli, process]) {
    assert.ok(whole.includes(anchor), `${anchor}: in the whole program`);
    assert.not.ok(hook.includes(anchor), `${anchor}: in the hook's program`);
  }
  for (const op of FILTER_OPS) {
    assert.not.ok(packageCodeRan(['hook', ...argvFor(op)], DOMAIN, { NOVA_IPMETA_CONFIG: config }, cli), `the CLI ran on ${op}`);
    assert.not.ok(packageCodeRan(['hook', ...argvFor(op)], DOMAIN, { NOVA_IPMETA_CONFIG: config }, process), `the process adapter ran on ${op}`);
  }
  assert.ok(packageCodeRan(['--help'], '', {}, cli), 'the CLI runs for --help');
  assert.ok(packageCodeRan(['list', '--connect', 'test:///default', '--state-dir', freshDir('state')], '', {}, process), 'the process adapter runs for list');
});

test('the built bundle loads no XML library for libvirt\'s plain XML, in sync or rewritten, and does for XML outside it (V8 coverage)', () => {
  const { config } = stateWith('two-ports');
  const env = { NOVA_IPMETA_CONFIG: config };
  const xmldom = 'end tag name missing'; // xmldom's sax parser
  // xmldom travels once, as the XML library's program, in neither of the others.
  const { whole, hook, xml } = bundlePrograms();
  assert.ok(xml.includes(xmldom) && !hook.includes(xmldom) && !whole.includes(xmldom), 'xmldom: in the XML library alone');
  const synced = bundleHook(process.execPath, 'migrate', DOMAIN, config).stdout;
  assertRewritten(synced, 'the first pass');
  for (const op of FILTER_OPS) {
    // Not even loaded: the head compiles and runs the XML library at its first require only.
    assert.not.ok(coverageOf(['hook', ...argvFor(op)], synced, env)(xml), `the XML library was loaded for ${op} of a domain in sync`);
    assert.not.ok(coverageOf(['hook', ...argvFor(op)], DOMAIN, env)(xml), `the XML library was loaded for ${op} of a domain to rewrite`);
  }
  // Outside the lean reader's plain subset (a declaration, CDATA), the DOM reads it.
  const declared = `<?xml version="1.0" encoding="UTF-8"?>\n${synced}`;
  assert.ok(packageCodeRan(['hook', ...argvFor('migrate')], declared, env, xmldom), 'xmldom reads what the lean reader leaves');
  const again = bundleHook(process.execPath, 'migrate', declared, config);
  assert.equal([again.status, again.stdout, again.stderr], [0, '', '']);
  const cdata = DOMAIN.replace('<devices>', '<description><![CDATA[web & db]]></description>\n  <devices>');
  assert.ok(cdata !== DOMAIN && packageCodeRan(['hook', ...argvFor('migrate')], cdata, env, xmldom), 'xmldom rewrites what the lean reader leaves');
  assert.equal(portsIn(bundleHook(process.execPath, 'migrate', cdata, config).stdout), EXPECTED_PORTS);
});

test("the built bundle's filter on Node 18 loads neither node:util's parser, codecs and MIME parser nor the text decoder (Node's module list)", () => {
  const { config } = stateWith('two-ports');
  const dir = freshDir('modules');
  const preload = join(dir, 'record.cjs');
  const list = join(dir, 'modules');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
  const modulesOf = (input: string): string[] => {
    const r = bundleHook(node18, 'migrate', input, config, ['-r', preload]);
    assert.is(r.status, 0, r.stderr);
    return readFileSync(list, 'utf8').split('\n');
  };
  const synced = bundleHook(node18, 'migrate', DOMAIN, config).stdout;
  assertRewritten(synced, 'the first pass');
  // On Node 18 a program's first require of node:util loads these; Node's own start does not.
  const unwanted = ['NativeModule internal/util/parse_args/parse_args', 'NativeModule internal/mime', 'NativeModule internal/encoding'];
  for (const [label, input] of [['rewritten', DOMAIN], ['in sync', synced]] as const) {
    const loaded = modulesOf(input);
    assert.ok(loaded.includes('NativeModule vm'), `${label}: the list is the run's (the head compiles with node:vm)`);
    assert.equal(unwanted.filter((m) => loaded.includes(m)), [], label);
  }
  // What the list shows when they are loaded: the same run, but with node:util required first.
  writeFileSync(preload, `require('node:util');\n${readFileSync(preload, 'utf8')}`);
  assert.equal(unwanted.filter((m) => modulesOf(DOMAIN).includes(m)), unwanted);
});

// ---------------------------------------------------------------------------------------------
// hooks/qemu run as libvirt runs it

function setup(novaIpmeta: string, cache: 'two-ports' | 'none' = 'two-ports', more: { filterTimeout?: number; log?: string } = {}): HookPaths & { hook: string; dir: string; state: string } {
  const { state, config } = stateWith(cache);
  const dir = freshDir('hook');
  const paths = { novaIpmeta, config, log: more.log ?? join(state, 'hook.log'), ...(more.filterTimeout === undefined ? {} : { filterTimeout: more.filterTimeout }) };
  const hook = join(dir, 'nova-ipmeta');
  installHook(hook, paths);
  return { ...paths, hook, dir, state };
}

const readLog = (paths: HookPaths) => (existsSync(paths.log) ? readFileSync(paths.log, 'utf8') : '');

async function until(what: string, check: () => boolean, seconds = 30): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (waited > seconds * 1000) throw new Error(`waited ${seconds} s for ${what}`);
    await sleep(50);
  }
}

/** A stub `nova-ipmeta` that records how it was run and then does `body`. */
function stub(body: string): { path: string; dir: string } {
  const dir = freshDir('stub');
  const path = join(dir, 'nova-ipmeta');
  writeScript(
    path,
    `d=${shellQuote(dir)}
printf '%s\\n' "$@" >"$d/argv.tmp" && mv "$d/argv.tmp" "$d/argv"
${body}`,
  );
  return { path, dir };
}

test('hooks/qemu keeps the installer\'s variable lines in the form install.sh rewrites', () => {
  const text = readFileSync(fileURLToPath(new URL('../../hooks/qemu', import.meta.url)), 'utf8');
  assert.match(text, /^NOVA_IPMETA=\/usr\/sbin\/nova-ipmeta$/m);
  assert.match(text, /^NOVA_IPMETA_CONFIG=\/etc\/nova-ipmeta\/nova-ipmeta\.conf$/m);
  assert.match(text, /^NOVA_IPMETA_LOG=\/var\/lib\/nova-ipmeta\/hook\.log$/m);
  assert.ok(text.startsWith('#!/bin/sh\n'));
  const syntax = spawnSync('sh', ['-n', fileURLToPath(new URL('../../hooks/qemu', import.meta.url))], { encoding: 'utf8' });
  assert.is(syntax.status, 0, syntax.stderr);
});

test('hooks/qemu: ignored operations exit 0, print nothing, run nothing, and drain a large stdin', () => {
  const s = stub('echo ran >"$d/ran"; echo "<domain/>"');
  const h = setup(s.path);
  const big = DOMAIN.replace('</metadata>', `<big>${'x'.repeat(1 << 20)}</big></metadata>`);
  for (const op of IGNORED_OPS) {
    for (const input of [DOMAIN, big, '']) {
      const r = runHookScript(h.hook, argvFor(op), input);
      assert.equal([r.code, r.stdout, r.stderr, r.error], [0, '', '', undefined], op);
    }
  }
  assert.not.ok(existsSync(join(s.dir, 'ran')), 'nova-ipmeta was not run');
  assert.not.ok(existsSync(join(s.dir, 'argv')), 'nova-ipmeta was not run');
});

test('hooks/qemu: migrate/restore pass Node\'s output through only when it succeeded and printed a whole domain alone', async () => {
  const printing = stub('cat >"$d/stdin"; printf "<domain>rewritten</domain>\\n\\n"');
  const logging = stub('cat >/dev/null; echo "a warning" >&2');
  const silent = stub('cat >/dev/null'); // in sync: read it all, printed nothing
  // Node's stdout and stderr are one stream to the hook: XML with anything else never reaches libvirt.
  const mixed = stub('cat >/dev/null; echo "before" >&2; printf "<domain>secret</domain>\\n"');
  const trailing = stub('cat >/dev/null; printf "<domain>secret</domain>\\n"; echo "after" >&2');
  const half = stub('head -c 10 >/dev/null; printf "<domain>secret"'); // and does not read the rest: the hook drains
  const failing = stub('head -c 10 >/dev/null; echo "it broke" >&2; printf "<domain>secret"; exit 1');
  const big = DOMAIN.replace('</metadata>', `<big>${'x'.repeat(1 << 20)}</big></metadata>`);
  for (const op of FILTER_OPS) {
    const p = setup(printing.path);
    const r = runHookScript(p.hook, argvFor(op, `odd name 'q' $(touch x) -x`), DOMAIN);
    assert.equal([r.code, r.stdout, r.stderr, r.error], [0, '<domain>rewritten</domain>\n', '', undefined], op);
    assert.is(readFileSync(join(printing.dir, 'stdin'), 'utf8'), DOMAIN, 'the XML reached Node on stdin');
    assert.is(readFileSync(join(printing.dir, 'argv'), 'utf8'), `hook\nodd name 'q' $(touch x) -x\n${op}\nbegin\n-\n`);

    const l = setup(logging.path);
    const g = runHookScript(l.hook, argvFor(op), DOMAIN);
    assert.equal([g.code, g.stdout, g.stderr, g.error], [0, '', '', undefined], `${op}: logging`);
    await until('Node\'s line in the log', () => /^\S+ a warning$/m.test(readLog(l)));

    const q = setup(silent.path);
    const s = runHookScript(q.hook, argvFor(op), big);
    assert.equal([s.code, s.stdout, s.stderr, s.error], [0, '', '', undefined], `${op}: silent`);

    for (const [label, script, said] of [
      ['a line, then XML', mixed, /^\S+ before$/m],
      ['XML, then a line', trailing, /printed no whole domain; libvirt keeps its XML/],
      ['half a domain', half, /printed no whole domain; libvirt keeps its XML/],
      ['failing', failing, new RegExp(`it broke\\n.*hook ${op} ${NAME}: .* exited 1; libvirt keeps its XML`)],
    ] as const) {
      const h = setup(script.path);
      const e = runHookScript(h.hook, argvFor(op), big);
      assert.equal([e.code, e.stdout, e.stderr, e.error], [0, '', '', undefined], `${op}: ${label}`);
      await until(`${op}, ${label}: the log`, () => said.test(readLog(h)));
      assert.not.match(readLog(h), /secret/, `${op}, ${label}: no XML in the log`);
    }
  }
});

test('hooks/qemu: a domain name with backslashes reaches the log as it is (dash\'s echo would end the line at \\c)', async () => {
  const name = 'odd\\cname\\n\\\\x';
  const failing = stub('cat >/dev/null; exit 1');
  const h = setup(failing.path);
  const filtered = runHookScript(h.hook, argvFor('migrate', name), DOMAIN);
  assert.equal([filtered.code, filtered.stdout, filtered.stderr], [0, '', '']);
  await until('the filter failure in the log', () => readLog(h).includes(`hook migrate ${name}: ${failing.path} exited 1; libvirt keeps its XML\n`));
  const started = runHookScript(h.hook, argvFor('started', name), DOMAIN);
  assert.equal([started.code, started.stdout, started.stderr], [0, '', '']);
  await until('the reconcile failure in the log', () => readLog(h).includes(`reconcile of ${name} after started exited 1\n`));
});

test('hooks/qemu: a Node that does not answer at migrate/restore is killed after NOVA_IPMETA_FILTER_TIMEOUT; nothing printed, exit 0, said in the log', async () => {
  const stubs = {
    // printed the XML, then hung: what it printed must not reach libvirt
    'printed, then hung': stub('echo $$ >"$d/pid"; cat >/dev/null; echo "<domain>late</domain>"; exec sleep 600'),
    'hung before reading': stub('echo $$ >"$d/pid"; exec sleep 600'),
    // SIGTERM ignored: SIGKILL follows
    'deaf to SIGTERM': stub('echo $$ >"$d/pid"; trap "" TERM; cat >/dev/null; while :; do sleep 0.2; done'),
  };
  for (const [label, s] of Object.entries(stubs)) {
    for (const op of FILTER_OPS) {
      rmSync(join(s.dir, 'pid'), { force: true });
      const h = setup(s.path, 'two-ports', { filterTimeout: 1 });
      const r = runHookScript(h.hook, argvFor(op), DOMAIN);
      assert.equal([r.code, r.stdout, r.stderr, r.error], [0, '', '', undefined], `${label}, ${op}`);
      const pid = Number(readFileSync(join(s.dir, 'pid'), 'utf8'));
      assert.not.ok(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), `${label}: the stub (pid ${pid}) is gone`);
      const said = label === 'deaf to SIGTERM' ? 'exited 137' : 'exited 124: no answer within 1 s, killed';
      await until(`${label}: the log`, () => readLog(h).includes(`hook ${op} ${NAME}: ${s.path} ${said}; libvirt keeps its XML`));
    }
  }
});

test('hooks/qemu: a log that blocks (a FIFO nobody reads) never holds migrate/restore', async () => {
  const failing = stub('cat >/dev/null; echo "it broke" >&2; exit 1');
  const fifo = join(freshDir('log'), 'hook.log');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0);
  for (const op of FILTER_OPS) {
    const h = setup(failing.path, 'two-ports', { log: fifo });
    const r = runHookScript(h.hook, argvFor(op), DOMAIN);
    assert.equal([r.code, r.stdout, r.stderr, r.error], [0, '', '', undefined], op);
  }
  // The log lines were waiting for a reader all along: read them, which also lets their writers end
  // (read and write, so that one writer closing is no end of file while the other has yet to open).
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  let logged = '';
  try {
    const buffer = Buffer.alloc(4096);
    await until('both failures through the FIFO', () => {
      try {
        logged += buffer.subarray(0, readSync(fd, buffer)).toString();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      return (logged.match(/it broke/g) ?? []).length === FILTER_OPS.length;
    });
  } finally {
    closeSync(fd);
  }
});

test('hooks/qemu: with nova-ipmeta missing, or Node not on PATH, every operation exits 0 and prints nothing', async () => {
  const bin = freshDir('bin-without-node');
  for (const tool of ['sh', 'cat', 'setsid', 'flock', 'date', 'logger', 'env', 'mv', 'sleep']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  const variants: [string, ReturnType<typeof setup>, NodeJS.ProcessEnv][] = [
    ['missing binary', setup(join(scratch, 'no-such-dir', 'nova-ipmeta')), hookEnv()],
    ['node not on PATH', setup(BUNDLE), hookEnv(bin)],
  ];
  for (const [label, h, env] of variants) {
    for (const op of [...IGNORED_OPS, ...FILTER_OPS, 'started', 'reconnect']) {
      const r = runHookScript(h.hook, argvFor(op), DOMAIN, env);
      assert.equal([r.code, r.stdout, r.stderr, r.error], [0, '', '', undefined], `${label}: ${op}`);
    }
    // The detached reconciles (started, reconnect) fail too, and say so in the log.
    await until(`${label}: two failed reconciles logged`, () => (readLog(h).match(/reconcile of instance-0000002a after (started|reconnect) exited [1-9]\d*$/gm) ?? []).length === 2);
    assert.match(readLog(h), /hook migrate instance-0000002a: .* exited 127; libvirt keeps its XML/);
  }
});

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the hook with pipes, as libvirt does, and resolves once it exited AND its pipes reached EOF. */
function runUntilEof(hook: string, argv: readonly string[], input: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(hook, [...argv], { env: hookEnv(), cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const sessionOf = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3];

for (const op of ['started', 'reconnect']) {
  test(`hooks/qemu: ${op} returns at once; reconcile runs detached, in its own session, on none of the hook's pipes`, async () => {
    const s = stub(`readlink /proc/$$/fd/0 >"$d/stdin"
env >"$d/env"
cat /proc/$$/stat >"$d/stat"
touch "$d/started"
while [ ! -e "$d/release" ]; do sleep 0.05; done
echo "stub reconcile output"
touch "$d/done"`);
    const h = setup(s.path);
    const name = `odd name 'q' $(touch x) -x`;
    const finished = await Promise.race([runUntilEof(h.hook, argvFor(op, name), DOMAIN), sleep(30_000, 'timeout' as const, { ref: false })]);
    // The stub cannot finish before it is released: the hook's pipes closed while it was still there.
    const doneBeforeRelease = existsSync(join(s.dir, 'done'));
    writeFileSync(join(s.dir, 'release'), '');
    assert.is.not(finished, 'timeout', 'the hook (or a child holding its pipes) did not finish within 30 s');
    assert.equal(finished, { code: 0, stdout: '', stderr: '' });
    assert.not.ok(doneBeforeRelease);
    await until('the detached reconcile to start and finish', () => existsSync(join(s.dir, 'done')));
    assert.is(readFileSync(join(s.dir, 'argv'), 'utf8'), `reconcile\n--domain=${name}\n`);
    assert.is(readFileSync(join(s.dir, 'stdin'), 'utf8'), '/dev/null\n');
    assert.match(readFileSync(join(s.dir, 'env'), 'utf8'), new RegExp(`^NOVA_IPMETA_CONFIG=${h.config}$`, 'm'));
    const ownSession = sessionOf(readFileSync('/proc/self/stat', 'utf8'));
    assert.is.not(sessionOf(readFileSync(join(s.dir, 'stat'), 'utf8')), ownSession, 'a session of its own');
    await until('the reconcile output in the log', () => readLog(h).includes('stub reconcile output'));
    assert.match(readLog(h), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} stub reconcile output$/m);
  });
}

test('hooks/qemu: detached reconciles run one at a time', async () => {
  const s = stub(`mkdir "$d/running" || echo overlap >>"$d/overlaps"
sleep 0.2
rmdir "$d/running"
echo x >>"$d/runs"`);
  const h = setup(s.path);
  for (let i = 0; i < 4; i++) {
    const r = runHookScript(h.hook, argvFor('started', `instance-${i}`), DOMAIN);
    assert.equal([r.code, r.stdout], [0, '']);
  }
  const runs = () => (existsSync(join(s.dir, 'runs')) ? readFileSync(join(s.dir, 'runs'), 'utf8').split('\n').length - 1 : 0);
  await until('four reconciles', () => runs() === 4);
  assert.not.ok(existsSync(join(s.dir, 'overlaps')), 'no two at once');
});

for (const [label, node] of NODES) {
  test(`${label}: hooks/qemu + bundle: migrate/restore rewrite the XML; no cache or a bad one: nothing`, async () => {
    const wrapper = join(freshDir('wrapper'), 'nova-ipmeta');
    writeBundleWrapper(wrapper, node);
    const h = setup(wrapper);
    const none = setup(wrapper, 'none');
    for (const op of FILTER_OPS) {
      const r = runHookScript(h.hook, argvFor(op), DOMAIN);
      assert.is(r.code, 0);
      assert.is(r.stderr, '');
      assertRewritten(r.stdout, `${label} ${op}`);
      const n = runHookScript(none.hook, argvFor(op), DOMAIN);
      assert.equal([n.code, n.stdout, n.stderr], [0, '', ''], `${op} without cache`);
      const said = new RegExp(`nova-ipmeta: hook ${op} "${NAME}": no cached network_info for ${UUID}; libvirt keeps its XML`);
      await until(`${op} without cache: the log`, () => said.test(readLog(none)));
    }
    rmSync(join(h.state, 'network_info'), { recursive: true });
    mkdirSync(join(h.state, 'network_info'), { mode: 0o700 });
    writeFileSync(join(h.state, 'network_info', `${UUID}.json`), 'not json', { mode: 0o600 });
    const c = runHookScript(h.hook, argvFor('migrate'), DOMAIN);
    assert.equal([c.code, c.stdout, c.stderr], [0, '', ''], 'corrupt cache');
    await until('corrupt cache: the log', () => /nova-ipmeta: hook migrate .*network_info.*; libvirt keeps its XML/.test(readLog(h)));
  });
}

test('hooks/qemu + bundle: started with no daemon to reach: exit 0 at once, the failure in the log', async () => {
  const wrapper = join(freshDir('wrapper'), 'nova-ipmeta');
  writeBundleWrapper(wrapper);
  const h = setup(wrapper);
  const r = runHookScript(h.hook, argvFor('started'), DOMAIN);
  assert.equal([r.code, r.stdout, r.stderr], [0, '', '']);
  await until('the failed reconcile in the log', () => /reconcile of instance-0000002a after started exited [1-9]/.test(readLog(h)));
});

test.after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

test.run();
