/**
 * The benches' shared runner (bench/lib.mjs): what it measures must be the command as a hypervisor
 * runs it. A NODE_* variable of the bench's own environment (this machine's network sets
 * NODE_EXTRA_CA_CERTS, which costs every Node start a CA bundle's parse) must not reach a
 * contender; the rest of the environment and a contender's own variables must.
 *
 * The runner is a plain ES module of the benches, so a bench-like Node process imports it here,
 * with those variables set in its own environment, and reports what its commands saw.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const LIB = fileURLToPath(new URL('../../bench/lib.mjs', import.meta.url));
const test = suite('bench/lib.mjs');

/** The variables this test looks at, as a command sees them (JSON; null: unset). */
const SEEN_EXPR = `JSON.stringify(['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'BENCH_KEPT', 'BENCH_OWN'].map((k) => process.env[k] ?? null))`;
/** A command that prints them. */
const SEEN = `process.stdout.write(${SEEN_EXPR})`;
/** The same, as an exit status (measure() keeps no output): 0 only when the runner passed on exactly what it should. */
const CLEAN_OR_FAIL = `process.exit(${SEEN_EXPR} === ${JSON.stringify(JSON.stringify([null, null, 'yes', 'mine']))} ? 0 : 1)`;

function bench(body: string): { status: number | null; stdout: string; stderr: string } {
  const script = `import { measure, measuredEnv, sh } from ${JSON.stringify(LIB)};\n${body}`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem', NODE_OPTIONS: '--max-old-space-size=64', BENCH_KEPT: 'yes' },
  });
}

test('measure() runs each contender without the NODE_* variables, with the rest and its own', () => {
  // measure() throws, and so this process exits non-zero, when a contender exits non-zero.
  const argv = [process.execPath, '-e', CLEAN_OR_FAIL];
  const r = bench(`const r = measure({ clean: { argv: ${JSON.stringify(argv)}, env: { BENCH_OWN: 'mine' } } }, { runs: 1, warmup: 0 }); process.stdout.write(String(r.clean.runs));`);
  // (This process itself warns that it cannot load the made-up CA file: it does get the variable.)
  assert.ok(r.stderr.includes('/nonexistent/ca.pem'), r.stderr);
  assert.is(r.status, 0, r.stderr.includes('clean: exit 1') ? 'the contender saw a NODE_* variable, or lacked another' : r.stderr);
  assert.is(r.stdout, '1');
});

test('sh() and measuredEnv() leave them out too', () => {
  const r = bench(`process.stdout.write(JSON.stringify({ sh: JSON.parse(sh([process.execPath, '-e', ${JSON.stringify(SEEN)}])), env: measuredEnv({ BENCH_OWN: 'mine' }) }));`);
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { sh: unknown; env: Record<string, string | undefined> };
  assert.equal(out.sh, [null, null, 'yes', null]);
  assert.is(out.env.NODE_EXTRA_CA_CERTS, undefined);
  assert.is(out.env.NODE_OPTIONS, undefined);
  assert.is(out.env.BENCH_KEPT, 'yes');
  assert.is(out.env.BENCH_OWN, 'mine');
});

test("measure() counts the pages each contender faulted in: its own, not the bench's", () => {
  // Writing 64 MiB it has just allocated faults in 16,384 pages more than a bare start; the bench's
  // own allocations (between the runs) must not count for either.
  const touch = [process.execPath, '-e', 'Buffer.allocUnsafeSlow(64 << 20).fill(1)'];
  const bare = [process.execPath, '-e', '0'];
  const r = bench(
    `const r = measure({ bare: { argv: ${JSON.stringify(bare)} }, touch: { argv: ${JSON.stringify(touch)} } }, { runs: 3, warmup: 0 });` +
      ` process.stdout.write(JSON.stringify([r.bare.pages, r.touch.pages]));`,
  );
  assert.is(r.status, 0, r.stderr);
  const [bare64, touch64] = JSON.parse(r.stdout) as [number, number];
  assert.ok(bare64 > 100, `a Node start faulted in ${bare64} pages`);
  assert.ok(touch64 - bare64 >= 16384, `64 MiB written: ${touch64 - bare64} pages more`);
  assert.ok(touch64 - bare64 < 16384 * 1.25, `64 MiB written: ${touch64 - bare64} pages more`);
});

test("measure() runs a contender's `before` before each of its runs, warm-up included", () => {
  // The command exits 0 only when `before` has counted once more since the command's last run.
  const dir = mkdtempSync(join(tmpdir(), 'bench-lib-'));
  const [count, seen] = [join(dir, 'count'), join(dir, 'seen')];
  const check = `const fs = require('fs'); const n = Number(fs.readFileSync(${JSON.stringify(count)}, 'utf8')); const last = fs.existsSync(${JSON.stringify(seen)}) ? Number(fs.readFileSync(${JSON.stringify(seen)}, 'utf8')) : 0; fs.writeFileSync(${JSON.stringify(seen)}, String(n)); process.exit(n === last + 1 ? 0 : 1);`;
  const r = bench(
    `import { writeFileSync } from 'node:fs'; let n = 0;` +
      ` measure({ counted: { argv: ${JSON.stringify([process.execPath, '-e', check])}, before: () => writeFileSync(${JSON.stringify(count)}, String(++n)) } }, { runs: 3, warmup: 1 });` +
      ` process.stdout.write(String(n));`,
  );
  rmSync(dir, { recursive: true, force: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '4');
});

test.run();
