/**
 * `nova-ipmeta setup`: the hook's placement rules, the install manifest and the state directory,
 * on real files in a temporary tree (the services and the libvirt restart run for real in the
 * host group, on a booted Debian 12).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HOOK_MARKER } from '../../src/adapters/host/hook-files';
import { captureIo } from '../support/cli';
import { runMain } from '../../src/main';

const t = suite('setup');
let root: string;
let hooks: string;
let state: string;
let libdir: string;
const HOOK = `#!/bin/sh\n${HOOK_MARKER}\nNOVA_IPMETA=/usr/sbin/nova-ipmeta\nexit 0\n`;

async function setup(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(stdin);
  const code = await runMain(['setup', ...args, '--hooks-dir', hooks, '--state-dir', state, '--libdir', libdir, '--config', join(root, 'none.conf')], io);
  return { code, out: io.stdout, err: io.stderr };
}

t.before.each(() => {
  root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-setup-'));
  hooks = join(root, 'etc/libvirt/hooks');
  state = join(root, 'state');
  libdir = join(root, 'lib');
  mkdirSync(join(libdir, 'hooks'), { recursive: true });
  writeFileSync(join(libdir, 'hooks/qemu'), HOOK);
  writeFileSync(join(root, 'none.conf'), '');
});
t.after.each(() => {
  rmSync(root, { recursive: true, force: true });
});

t('place-hook: qemu.d for libvirt >= 6.5, the directories it made recorded, 0755; again: unchanged, its first time kept', async () => {
  const first = await setup(['place-hook', '--libvirt-version', '9.0.0']);
  assert.is(first.code, 0, first.err);
  const target = join(hooks, 'qemu.d/nova-ipmeta');
  assert.equal(first.out.split('\n'), [`state: ${state} (0700, root)`, `hook: ${target} (installed)`, '']);
  assert.is(readFileSync(target, 'utf8'), HOOK);
  assert.is(statSync(target).mode & 0o777, 0o755);
  assert.is(statSync(state).mode & 0o777, 0o700);
  const manifest = readFileSync(join(state, 'install-manifest'), 'utf8');
  assert.is(manifest, [`hookdir ${join(root, 'etc')}`, `hookdir ${join(root, 'etc/libvirt')}`, `hookdir ${hooks}`, `hookdir ${join(hooks, 'qemu.d')}`, `hook ${target}`, ''].join('\n'));
  const appeared = new Date('2026-01-02T03:04:05Z');
  utimesSync(target, appeared, appeared);
  assert.match((await setup(['place-hook', '--libvirt-version', '9.0.0'])).out, `hook: ${target} (unchanged)`);
  writeFileSync(join(libdir, 'hooks/qemu'), `${HOOK}# v2\n`);
  assert.match((await setup(['place-hook', '--libvirt-version', '9.0.0'])).out, `hook: ${target} (updated)`);
  assert.match(readFileSync(target, 'utf8'), '# v2');
  assert.is(statSync(target).mtime.toISOString(), appeared.toISOString(), 'an update keeps the time the hook appeared');
  assert.equal(
    readFileSync(join(state, 'install-manifest'), 'utf8').split('\n').filter((l) => l.startsWith('hook ')),
    [`hook ${target}`],
  );
});

t('place-hook: hooks/qemu before 6.5; a foreign hook there is never overwritten (exit 1, one line, nothing changed)', async () => {
  const r = await setup(['place-hook', '--libvirt-version', '6.0.0']);
  assert.is(r.code, 0, r.err);
  assert.is(readFileSync(join(hooks, 'qemu'), 'utf8'), HOOK);
  // libvirt upgraded past 6.5: ours moves to qemu.d, the old copy goes so it never runs twice.
  const moved = await setup(['place-hook', '--libvirt-version', '9.0.0']);
  assert.match(moved.out, `hook: removed our older ${join(hooks, 'qemu')}`);
  assert.not.ok(existsSync(join(hooks, 'qemu')));

  writeFileSync(join(hooks, 'qemu'), '#!/bin/sh\necho mine\n');
  const before = readFileSync(join(hooks, 'qemu'), 'utf8');
  const refused = await setup(['check-hook', '--libvirt-version', '6.0.0']);
  assert.is(refused.code, 1);
  assert.is(refused.out, '');
  assert.match(refused.err, /^nova-ipmeta: [^\n]*qemu is not nova-ipmeta's hook \(no "# managed-by: nova-ipmeta" line; it starts "#!\/bin\/sh"\): left as it is, nothing installed; libvirt 6.0.0 runs only [^\n]*\n$/);
  assert.is((await setup(['place-hook', '--libvirt-version', '6.0.0'])).code, 1);
  assert.is(readFileSync(join(hooks, 'qemu'), 'utf8'), before);
  // With qemu.d (>= 6.5), a foreign hooks/qemu simply runs first: no conflict.
  assert.is((await setup(['check-hook', '--libvirt-version', '9.0.0'])).out, `${join(hooks, 'qemu.d/nova-ipmeta')}\n`);
});

t('remove-hook: ours removed at both places, a replaced one left, the directories it made removed when empty', async () => {
  await setup(['place-hook', '--libvirt-version', '9.0.0']);
  writeFileSync(join(hooks, 'qemu.d/other'), '#!/bin/sh\n');
  const r = await setup(['remove-hook']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, `hook: removed ${join(hooks, 'qemu.d/nova-ipmeta')}`);
  assert.ok(existsSync(join(hooks, 'qemu.d/other')), "someone else's script stays, and so does its directory");
  rmSync(join(hooks, 'qemu.d/other'));
  await setup(['place-hook', '--libvirt-version', '9.0.0']);
  writeFileSync(join(hooks, 'qemu.d/nova-ipmeta'), '#!/bin/sh\necho replaced\n');
  const replaced = await setup(['remove-hook']);
  assert.match(replaced.out, 'is no longer ours: left as it is');
  assert.ok(existsSync(join(hooks, 'qemu.d/nova-ipmeta')));
});

t('a planted link where the temporary file goes cannot redirect the write', async () => {
  mkdirSync(join(hooks, 'qemu.d'), { recursive: true });
  const victim = join(root, 'victim');
  writeFileSync(victim, 'precious');
  // The old script's temp name was predictable ($$); now the name is random and opened O_EXCL|O_NOFOLLOW.
  for (let pid = process.pid - 2; pid < process.pid + 3; pid++) symlinkSync(victim, join(hooks, `.nova-ipmeta-hook.${pid}`));
  assert.is((await setup(['place-hook', '--libvirt-version', '9.0.0'])).code, 0);
  assert.is(readFileSync(victim, 'utf8'), 'precious');
});

t('state-dir: created 0700, a loose one tightened; a file in the way is an error', async () => {
  assert.is((await setup(['state-dir'])).code, 0);
  chmodSync(state, 0o755);
  assert.is((await setup(['state-dir'])).code, 0);
  assert.is(statSync(state).mode & 0o777, 0o700);
  assert.is(statSync(join(state, 'network_info')).mode & 0o777, 0o700);
  rmSync(state, { recursive: true });
  writeFileSync(state, 'x');
  const r = await setup(['state-dir']);
  assert.is(r.code, 3);
  assert.match(r.err, 'exists and is not a directory');
});

t('record and uninstall: files removed, an edited config kept unless --purge, a non-empty directory kept', async () => {
  assert.is((await setup(['state-dir'])).code, 0);
  const dir = join(root, 'usr/lib/nova-ipmeta');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'a'), 'a');
  const conf = join(root, 'nova-ipmeta.conf');
  writeFileSync(conf, 'default\n');
  const sha = '4f2cb3f2f1d9f5c7e0b9f3f0f0b6a1a8c3d1f6e7b2a9c8d7e6f5a4b3c2d1e0f9';
  const lines = [`dir ${dir}`, `file ${join(dir, 'a')}`, `conf ${conf} ${sha}`].join('\n');
  assert.is((await setup(['record'], lines)).code, 0);
  assert.is((await setup(['record'], 'nonsense /x\n')).code, 2);
  const r = await setup(['uninstall']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, `removed ${join(dir, 'a')}`);
  assert.match(r.out, `kept ${conf} (edited; --uninstall --purge removes it)`);
  assert.not.ok(existsSync(join(dir, 'a')));
  assert.ok(existsSync(conf));
  assert.ok(existsSync(state), 'the cache stays without --purge');
  const purged = await setup(['uninstall', '--purge']);
  assert.match(purged.out, `removed ${conf}`);
  assert.not.ok(existsSync(conf));
  assert.not.ok(existsSync(state));
});

t('an unknown action is bad input', async () => {
  const r = await setup(['frobnicate']);
  assert.is(r.code, 2);
  assert.match(r.err, '"frobnicate": expected one of check-hook, place-hook');
});

t.run();
