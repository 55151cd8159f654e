// The project's one test command: type check, lint, build, then every test group, ending with a
// plain "N passed, N failed" line. Groups run one after another (2 cores, real QEMU guests).
// Usage: npm test [-- GROUP...]   groups: typecheck lint build unit libvirt host
//
// Tests live next to what they test, mirroring src/ (test/core, test/adapters, test/usecases,
// test/commands, ...); what a test needs decides its group, by the end of its file name:
//   *.test.ts          unit: pure logic, files, the built bundle; no daemon, no root;
//   *.libvirt.test.ts  libvirt: a private libvirt daemon with QEMU guests, a real Neutron and
//                      Keystone (root; the harness installs the Debian packages it needs);
//   *.host.test.ts     host: a freshly booted Debian 12 with systemd, booted by the test itself.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemNode } from './system-node.mjs';

const GROUPS = {
  unit: (f) => !/\.(libvirt|host)\.test\.ts$/.test(f),
  libvirt: (f) => f.endsWith('.libvirt.test.ts'),
  host: (f) => f.endsWith('.host.test.ts'),
};
const all = ['typecheck', 'lint', 'build', ...Object.keys(GROUPS)];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : all;
const bin = (name) => join('node_modules', '.bin', name);
let passed = 0;
let failed = 0;
let skipped = 0;

const unknown = wanted.filter((g) => !all.includes(g));
if (unknown.length) {
  process.stderr.write(`unknown test group ${unknown.join(', ')}; groups: ${all.join(' ')}\n`);
  process.exit(2);
}

function run(label, argv, env = {}) {
  process.stdout.write(`\n== ${label}: ${argv.join(' ')}\n`);
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  process.stdout.write(r.stdout ?? '');
  return { ok: r.status === 0, out: r.stdout ?? '' };
}

function check(label, argv) {
  const { ok } = run(label, argv);
  if (ok) passed++;
  else failed++;
}

/** Runs every test file of a group, each in its own process, and counts uvu's totals. */
function suite(group) {
  const files = readdirSync('test', { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts') && GROUPS[group](f))
    .sort();
  for (const f of files) {
    const { ok, out } = run(`${group} ${f}`, [systemNode, '--import', 'tsx', join('test', f)]);
    const num = (key) => Number(out.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0);
    const total = num('Total');
    const p = num('Passed');
    const s = num('Skipped');
    passed += p;
    skipped += s;
    failed += Math.max(total - p - s, ok ? 0 : 1);
  }
}

for (const g of wanted) {
  if (g === 'typecheck') check('typecheck', [bin('tsc'), '--noEmit', '-p', '.']);
  else if (g === 'lint') check('lint', [bin('eslint'), '--max-warnings=0', '.']);
  else if (g === 'build') check('build', [systemNode, 'scripts/build.mjs']);
  else suite(g);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (failed) process.exitCode = 1;
