/**
 * How the build lays the bundle out (scripts/build.mjs): each program in a block comment, which the
 * head takes back as slices of the function that holds them (scripts/bundle-loader.cjs). A program
 * whose text would end that comment is refused at build time, naming the program and the place;
 * the built bundle holds the programs where its last line says, each the CommonJS wrapper its
 * head compiles. The build script is a plain ES module, so a Node process imports it here.
 */
import { spawnSync } from 'node:child_process';
import { Script } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bundlePrograms } from '../support/cli';

const BUILD = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url));
const test = suite('scripts/build.mjs: the programs in comments');

function checkCommentable(name: string, text: string): { status: number | null; stderr: string } {
  const script = `import { checkCommentable } from ${JSON.stringify(BUILD)};\ncheckCommentable(${JSON.stringify(name)}, ${JSON.stringify(text)});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('a program holding a star and a slash in a row is refused, naming it and where', () => {
  const r = checkCommentable('the whole program (src/bin.ts)', 'var a=1;const TRAILING=/[ \\n\\t]*/y;');
  assert.is.not(r.status, 0);
  assert.match(r.stderr, 'the whole program (src/bin.ts) holds "*/" at character 31 (');
  assert.match(r.stderr, '[ \\\\n\\\\t]*/y;');
  assert.match(r.stderr, 'block comment');
});

test('one without them passes: the same expression, its star inside a group', () => {
  assert.is(checkCommentable('the whole program (src/bin.ts)', 'var a=1;const TRAILING=/(?:[ \\n\\t]*)/y;').status, 0);
});

test('the built bundle: the programs follow one another in the comments of the function its last line hands the head, of the lengths it gives, each the CommonJS wrapper the head compiles', () => {
  const { whole, hook, xml, between } = bundlePrograms();
  assert.equal(between, ['*//*', '*//*']);
  for (const [name, program] of Object.entries({ whole, hook, xml })) {
    assert.ok(program.startsWith('(function (exports, require, module, __filename, __dirname) {'), name);
    assert.ok(program.endsWith('\n})'), name);
    assert.not.match(program, '*/', name);
    new Script(program, { filename: name });
  }
});

test.run();
