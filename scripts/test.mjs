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
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemNode } from './system-node.mjs';

const GROUPS = {
  unit: (f) => !/\.(libvirt|host)\.test\.ts$/.test(f),
  libvirt: (f) => f.endsWith('.libvirt.test.ts'),
  host: (f) => f.endsWith('.host.test.ts'),
};
const all = ['typecheck', 'lint', 'build', ...Object.keys(GROUPS)];
/**
 * Debian packages a group's tests run that a fresh Debian 12 lacks, installed before the group
 * (test/support/debian-packages.sh): man and groff render the man page (test/docs, and the guide's
 * `man nova-ipmeta`), openssl makes a test CA. The libvirt harness installs libvirt, QEMU,
 * xmllint and the Neutron packages itself, the host harness debootstrap.
 */
const debianPackages = { unit: ['man-db', 'groff-base', 'openssl'], libvirt: ['man-db'] };
/** One step or test file may take this long on a busy 2-core machine: a hung one fails instead of hanging the run. */
const STEP_TIMEOUT_MS = 20 * 60_000;
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
  const r = spawnSync(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
  });
  process.stdout.write(r.stdout ?? '');
  if (r.error?.code === 'ETIMEDOUT') process.stdout.write(`\n== ${label}: killed after ${STEP_TIMEOUT_MS / 60_000} min: it hung (counted as failed)\n`);
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
  if (debianPackages[g] && process.platform === 'linux' && existsSync('/usr/bin/dpkg-query')) {
    const r = spawnSync('bash', ['test/support/debian-packages.sh', ...debianPackages[g]], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) process.stderr.write(`test: the ${g} group's Debian packages are missing (see above): its tests that need them will fail\n`);
  }
  if (g === 'typecheck') check('typecheck', [bin('tsc'), '--noEmit', '-p', '.']);
  else if (g === 'lint') check('lint', [bin('eslint'), '--max-warnings=0', '.']);
  else if (g === 'build') check('build', [systemNode, 'scripts/build.mjs']);
  else suite(g);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (failed) process.exitCode = 1;
