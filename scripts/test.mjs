// The project's one test command: type check, lint, build, then every test group, ending with a
// plain "N passed, N failed" line. Groups run one after another (2 cores, real QEMU guests).
// Usage: npm test [-- GROUP...]   groups: typecheck lint build unit libvirt host (no GROUP: all)
// unit: every test/**/*.test.ts outside test/libvirt and test/host (pure logic, files, the bundle);
// libvirt: test/libvirt, against a private libvirt daemon with QEMU guests (installs its packages);
// host: test/host, the .deb, install.sh and the cron path on throwaway Debian 12 systems booted
// with their own systemd (test/host/system.sh; root, a Debian mirror the first time, ~10 min).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemNode } from './system-node.mjs';

const all = ['typecheck', 'lint', 'build', 'unit', 'libvirt', 'host'];
/**
 * Debian packages a group's tests run that a fresh Debian 12 lacks, installed before the group
 * (test/harness/debian-packages.sh): man and groff render the man page (test/docs, and the guide's
 * `man nova-ipmeta`), openssl makes a test CA (test/neutron). The libvirt harness installs libvirt,
 * QEMU, xmllint and the Neutron packages itself, the host harness debootstrap.
 */
const debianPackages = { unit: ['man-db', 'groff-base', 'openssl'], libvirt: ['man-db'] };
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : all;
const bin = (name) => join('node_modules', '.bin', name);
let passed = 0;
let failed = 0;
let skipped = 0;

/** One step or test file may take this long (the longest here, test/libvirt/hook.test.ts, about 4 min on a busy 2-core machine): a hung one fails instead of hanging the run. */
const STEP_TIMEOUT_MS = 10 * 60_000;

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

/**
 * Runs every *.test.ts below `dir` (skipping the folders in `except`), each file in its own
 * process, and counts uvu's totals.
 */
function suite(label, dir, except = []) {
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts') && !except.some((e) => f.startsWith(`${e}/`)))
    .sort();
  for (const f of files) {
    const { ok, out } = run(`${label} ${f}`, [systemNode, '--import', 'tsx', join(dir, f)]);
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
    const r = spawnSync('bash', ['test/harness/debian-packages.sh', ...debianPackages[g]], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) process.stderr.write(`test: the ${g} group's Debian packages are missing (see above): its tests that need them will fail\n`);
  }
  if (g === 'typecheck') check('typecheck', [bin('tsc'), '--noEmit', '-p', '.']);
  else if (g === 'lint') check('lint', [bin('eslint'), '--max-warnings=0', '.']);
  else if (g === 'build') check('build', [systemNode, 'scripts/build.mjs']);
  else if (g === 'unit') suite('unit', 'test', ['libvirt', 'harness', 'host']);
  else if (g === 'libvirt' && existsSync('test/libvirt')) suite('libvirt', 'test/libvirt');
  else if (g === 'host' && existsSync('test/host')) suite('host', 'test/host');
  else if (!all.includes(g)) {
    process.stderr.write(`unknown test group ${g}; groups: ${all.join(' ')}\n`);
    process.exitCode = 2;
  }
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (failed) process.exitCode = 1;
