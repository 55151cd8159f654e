/**
 * How the build lays the bundle out (scripts/build.mjs): a small head Node runs, and beside it the
 * programs file it reads them from (scripts/bundle-loader.cjs). A program the head could not read
 * as it does (one byte a character) is refused at build time, naming the program and the place;
 * the built programs file holds the programs where the head's last line says, each the CommonJS
 * wrapper the head compiles. The build script is a plain ES module, so a Node process imports it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { offlineCommands } from '../../src/cli/offline-commands';
import { readCommands } from '../../src/cli/read-commands';
import { programsFileOf } from '../../scripts/bundle-layout.mjs';
import { BUNDLE, buildPrograms, bundleCoverage, bundlePrograms, copyBundle, fixturePath, programFor } from '../support/cli';

const BUILD = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url));
const test = suite('scripts/build.mjs: the head and its programs file');

function checkAscii(name: string, text: string): { status: number | null; stderr: string } {
  const script = `import { checkAscii } from ${JSON.stringify(BUILD)};\ncheckAscii(${JSON.stringify(name)}, ${JSON.stringify(text)});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('a program holding a character outside ASCII is refused, naming it and where', () => {
  const r = checkAscii('the whole program (src/bin.ts)', 'var a=1;const S="caf\u00e9";');
  assert.is.not(r.status, 0);
  assert.match(r.stderr, 'the whole program (src/bin.ts) holds a character outside ASCII at 20 (');
  assert.match(r.stderr, 'Latin-1');
});

test('one in ASCII passes', () => {
  assert.is(checkAscii('the whole program (src/bin.ts)', 'var a=1;const S="caf\\u00e9";').status, 0);
});

test('the built bundle: a small head; the programs follow the programs file\'s first line, of the lengths the head gives, each the CommonJS wrapper the head compiles', () => {
  const { header, ...programs } = bundlePrograms();
  assert.match(header, /^nova-ipmeta programs [0-9a-f]{16}\n$/);
  assert.ok(readFileSync(BUNDLE).length < 8 * 1024, 'the head Node reads at every start is small');
  for (const [name, program] of Object.entries(programs)) {
    assert.ok(program.startsWith('(function (exports, require, module, __filename, __dirname) {'), name);
    assert.ok(program.endsWith('\n})'), name);
    assert.not.match(program, /[\u0080-\uffff]/, name);
    new Script(program, { filename: name });
  }
});

test("the offline and the read commands' programs serve the words the build gives the head for them, and the hook's `hook`", () => {
  assert.equal(
    buildPrograms().map((p) => [p.entry, p.words]),
    [
      ['src/bin.ts', []],
      ['src/hook-bin.ts', ['hook']],
      ['src/offline-bin.ts', offlineCommands.map((c) => c.spec.name)],
      ['src/read-bin.ts', readCommands.map((c) => c.spec.name)],
    ],
  );
});

test('the head runs the program of the first word: the offline commands for render and inject, the read commands for list, find, history and show, the whole program for the rest (V8 coverage)', () => {
  const { whole, hook, offline, read, xml } = bundlePrograms();
  const programs = { whole, hook, offline, read, xml };
  assert.is(new Set(Object.values(programs).map((text) => text.length)).size, 5, 'the programs told apart by their lengths');
  // The programs a start compiled.
  const ran = (argv: readonly string[]): string[] => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-coverage-'));
    try {
      const covered = bundleCoverage(argv, dir, { env: process.env });
      return Object.entries(programs).flatMap(([name, text]) => (covered(text) ? [name] : [])).sort();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const twoPorts = fixturePath('network_info/two-ports.json');
  // Neither render nor a change to libvirt's plain XML loads the XML library (core/lean-xml.ts); other XML does.
  assert.equal(ran(['render', twoPorts]), ['offline']);
  const wallaby = fixturePath('domains/wallaby-nova-ports.xml');
  assert.equal(ran(['inject', wallaby, twoPorts]), ['offline']);
  const declared = join(mkdtempSync(join(tmpdir(), 'bundle-declared-')), 'declared.xml');
  writeFileSync(declared, `<?xml version="1.0"?>\n${readFileSync(wallaby, 'utf8')}`);
  assert.equal(ran(['inject', declared, twoPorts]), ['offline', 'xml']);
  rmSync(dirname(declared), { recursive: true });
  assert.equal(ran(['render', '--help']), ['offline']);
  for (const word of ['list', 'find', 'history', 'show']) assert.equal(ran([word, '--help']), ['read'], word);
  assert.equal(ran(['--help']), ['whole']);
  assert.equal(ran(['reconcile', '--help']), ['whole']);
  // An option before the command: the whole program, which serves every command.
  assert.equal(ran(['--state-dir', '/nonexistent', 'list', '--help']), ['whole']);
  assert.equal(ran(['hook', 'instance-0000002a', 'prepare', 'begin', '-']), ['hook']);
  // What the tests take the head to do (test/support/cli.ts), checked against what it does.
  assert.equal([programFor(['render']), programFor(['find']), programFor(['hook']), programFor(['reconcile'])], ['offline', 'read', 'hook', 'whole']);
});

test('a head without its programs file, or with another build\'s, says so in one line and exits 3', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-build-'));
  try {
    const bundle = join(dir, 'nova-ipmeta.cjs');
    copyBundle(bundle);
    const run = () => spawnSync(process.execPath, [bundle, '--version'], { encoding: 'utf8' });
    const version = spawnSync(process.execPath, [BUNDLE, '--version'], { encoding: 'utf8' }).stdout;
    assert.match(version, /^\d+\.\d+\.\d+\n$/);
    assert.equal([run().status, run().stdout], [0, version]);
    const programs = programsFileOf(bundle);
    const text = readFileSync(programs, 'latin1');
    for (const [label, content, said] of [
      ['another build', text.replace(/^nova-ipmeta programs [0-9a-f]{16}/, 'nova-ipmeta programs 0123456789abcdef'), 'not the programs of this build'],
      ['cut short', text.slice(0, -1), 'not the programs of this build'],
      ['missing', undefined, 'cannot read (ENOENT)'],
    ] as const) {
      if (content === undefined) rmSync(programs);
      else writeFileSync(programs, content, 'latin1');
      const r = run();
      assert.is(r.status, 3, label);
      assert.is(r.stdout, '', label);
      assert.is(r.stderr, `nova-ipmeta: ${programs}: ${said}${said.startsWith('not') ? ` (${/[0-9a-f]{16}/.exec(readFileSync(bundle, 'latin1'))?.[0]}): install nova-ipmeta again` : ''}\n`, label);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
