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
import { join } from 'node:path';
import { Script } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE, bundlePrograms, copyBundle, programsFileOf } from '../support/cli';

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
  const { whole, hook, xml, header } = bundlePrograms();
  assert.match(header, /^nova-ipmeta programs [0-9a-f]{16}\n$/);
  assert.ok(readFileSync(BUNDLE).length < 8 * 1024, 'the head Node reads at every start is small');
  for (const [name, program] of Object.entries({ whole, hook, xml })) {
    assert.ok(program.startsWith('(function (exports, require, module, __filename, __dirname) {'), name);
    assert.ok(program.endsWith('\n})'), name);
    assert.not.match(program, /[\u0080-\uffff]/, name);
    new Script(program, { filename: name });
  }
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
