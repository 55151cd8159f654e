/**
 * `nova-ipmeta setup`: the hook's placement rules, the install manifest and the state directory,
 * on real files in a temporary tree (the services and the libvirt restart run for real in the
 * host group, on a booted Debian 12).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HOOK_MARKER } from '../../src/adapters/host/hook-files';
import { systemdRuns } from '../../src/adapters/host/systemd';
import { HOOK_SOURCE } from '../support/hook-install';
import { captureIo } from '../support/cli';
import { commands } from '../../src/cli/commands';
import { runMain } from '../../src/main';

const t = suite('setup');
let root: string;
let hooks: string;
let state: string;
let libdir: string;
const HOOK = `#!/bin/sh\n${HOOK_MARKER}\nNOVA_IPMETA=/usr/sbin/nova-ipmeta\nexit 0\n`;

async function setup(args: string[], stdin = '', config = join(root, 'none.conf')): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(stdin);
  const code = await runMain(['setup', ...args, '--hooks-dir', hooks, '--state-dir', state, '--libdir', libdir, '--config', config], io, commands);
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
  // A libvirtd of another mount namespace (another test's private daemon) adds a suggestion line: not this test's business.
  const own = first.out.split('\n').filter((l) => !l.includes("never runs this host's hook"));
  assert.equal(own, [`state: ${state} (0700, root)`, `hook: ${target} (installed)`, '']);
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

t('remove-hook: ours placed under another hooks directory (install.sh --hooks-dir at install only) is found through the manifest and removed', async () => {
  await setup(['place-hook', '--libvirt-version', '9.0.0']);
  const io = captureIo('');
  const code = await runMain(['setup', 'remove-hook', '--hooks-dir', join(root, 'elsewhere'), '--state-dir', state, '--libdir', libdir, '--config', join(root, 'none.conf')], io, commands);
  assert.is(code, 0, io.stderr);
  assert.is(io.stdout, `hook: removed ${join(hooks, 'qemu.d/nova-ipmeta')}\n`);
  assert.not.ok(existsSync(hooks), 'and the directories it made');
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

t('check-config: a config file holding a Keystone secret that others can read is warned about, never changed', async () => {
  const conf = join(root, 'secret.conf');
  const check = async () => {
    const io = captureIo();
    const code = await runMain(['setup', 'check-config', '--config', conf, '--state-dir', state], io, commands);
    return { code, out: io.stdout, err: io.stderr };
  };
  writeFileSync(conf, '[neutron]\nauth_type = password\npassword = s3cret\n');
  chmodSync(conf, 0o644);
  assert.equal(await check(), { code: 0, out: `config: warning: ${conf} holds a secret ([neutron] password) and others can read it (mode 0644): chmod 0640 ${conf}\n`, err: '' });
  assert.is(statSync(conf).mode & 0o777, 0o644, 'left as it is');
  chmodSync(conf, 0o640);
  assert.equal(await check(), { code: 0, out: '', err: '' });
  writeFileSync(conf, '[neutron]\n#password = s3cret\nusername = nova\n');
  chmodSync(conf, 0o644);
  assert.equal(await check(), { code: 0, out: '', err: '' }, 'no secret in it');
});

t("place-hook keeps the operator's values of the hook's tunable lines over an update, and the installer's lines and the rest are the new text", async () => {
  // The real hook, marked as install.sh marks it.
  const shipped = readFileSync(HOOK_SOURCE, 'utf8').replace('\n', `\n${HOOK_MARKER}\n`);
  const source = join(libdir, 'hooks/qemu');
  writeFileSync(source, shipped);
  const target = join(hooks, 'qemu.d/nova-ipmeta');
  assert.is((await setup(['place-hook', '--libvirt-version', '9.0.0'])).code, 0);
  const edit = (text: string, lines: Record<string, string>) => Object.entries(lines).reduce((t, [name, value]) => t.replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=${value}`), text);
  // As an operator edits it: two tunable lines (one quoted, as a shell word may be), an installer's line, a line of their own.
  writeFileSync(target, `${edit(shipped, { NOVA_IPMETA_FILTER_TIMEOUT: '30', NOVA_IPMETA_SYSLOG: "'no'", NOVA_IPMETA: '/opt/elsewhere' })}# mine\n`);
  const v2 = `${shipped}# v2\n`;
  writeFileSync(source, v2);
  const kept = 'kept NOVA_IPMETA_FILTER_TIMEOUT=30, NOVA_IPMETA_SYSLOG=no';
  const updated = await setup(['place-hook', '--libvirt-version', '9.0.0']);
  assert.is(updated.code, 0, updated.err);
  assert.match(updated.out, `hook: ${target} (updated, ${kept})\n`);
  assert.is(readFileSync(target, 'utf8'), edit(v2, { NOVA_IPMETA_FILTER_TIMEOUT: '30', NOVA_IPMETA_SYSLOG: 'no' }));
  assert.is(statSync(target).mode & 0o777, 0o755);
  assert.match((await setup(['place-hook', '--libvirt-version', '9.0.0'])).out, `hook: ${target} (unchanged, ${kept})\n`);

  // Values it cannot use: the default instead, one line each; the hook is then the new text exactly.
  writeFileSync(target, edit(v2, { NOVA_IPMETA_FILTER_TIMEOUT: '0', NOVA_IPMETA_SYSLOG: 'yes', NOVA_IPMETA_LOG: '/var/log/$(reboot)' }));
  const v3 = `${shipped}# v3\n`;
  writeFileSync(source, v3);
  const reset = await setup(['place-hook', '--libvirt-version', '9.0.0']);
  assert.is(reset.code, 0, reset.err);
  assert.equal(reset.out.split('\n').filter((l) => l.startsWith(`hook: ${target}`)), [
    `hook: ${target} (updated)`,
    `hook: ${target}: NOVA_IPMETA_FILTER_TIMEOUT="0" is not a whole number of seconds from 1 to 999999999: the default 10 instead`,
    `hook: ${target}: NOVA_IPMETA_SYSLOG="yes" is not auto or no: the default auto instead`,
    `hook: ${target}: NOVA_IPMETA_LOG="/var/log/$(reboot)" is not an absolute path of letters, digits and ._+-/: the default /var/lib/nova-ipmeta/hook.log instead`,
  ]);
  assert.is(readFileSync(target, 'utf8'), v3);

  // libvirt upgraded past 6.5: the copy moved to qemu.d keeps the values of the one at hooks/qemu.
  rmSync(target);
  assert.is((await setup(['place-hook', '--libvirt-version', '6.0.0'])).code, 0);
  writeFileSync(join(hooks, 'qemu'), edit(v3, { NOVA_IPMETA_LOG: '/srv/log/hook.log' }));
  const moved = await setup(['place-hook', '--libvirt-version', '9.0.0']);
  assert.match(moved.out, `hook: ${target} (installed, kept NOVA_IPMETA_LOG=/srv/log/hook.log)\n`);
  assert.is(readFileSync(target, 'utf8'), edit(v3, { NOVA_IPMETA_LOG: '/srv/log/hook.log' }));
  assert.not.ok(existsSync(join(hooks, 'qemu')));
});

t('a config file that cannot be read: remove-hook, state-dir, uninstall and purge go on with the state directory they are given, saying why without a value; place-hook, record and check-config fail on it', async () => {
  const bad = join(root, 'bad.conf');
  // What is in the file (none: absent), and the reason said, which is also the case's label.
  const broken: [string | Buffer | undefined, string][] = [
    ['[libvirt]\nclient = Virsh-s3cret\n', ': [libvirt] client: expected auto or virsh'],
    ['state_dir = /s3cret\n', ':1: a key before any [section]'],
    [Buffer.from('[DEFAULT]\nstate_dir = /s3cret\xff\n', 'latin1'), ': not valid UTF-8 text (byte 29)'],
    [undefined, ': cannot read the config file: ENOENT'],
  ];
  for (const [text, reason] of broken) {
    const label = reason;
    rmSync(bad, { force: true });
    if (text !== undefined) writeFileSync(bad, text);
    assert.is((await setup(['place-hook', '--libvirt-version', '9.0.0'])).code, 0, label);
    const said = `config: ${bad}${reason}; using the state directory ${state}\n`;
    const removed = await setup(['remove-hook'], '', bad);
    assert.equal([removed.code, removed.err], [0, ''], label);
    assert.is(removed.out, `${said}hook: removed ${join(hooks, 'qemu.d/nova-ipmeta')}\n`, label);
    assert.not.ok(existsSync(join(hooks, 'qemu.d/nova-ipmeta')), label);
    assert.not.ok(existsSync(hooks), `${label}: the directories it made, through the manifest`);
    for (const failing of [['place-hook', '--libvirt-version', '9.0.0'], ['record'], ['check-config']]) {
      const r = await setup(failing, 'file /x\n', bad);
      assert.is(r.code, 2, `${label}: ${failing[0]}`);
      assert.match(r.err, bad, `${label}: ${failing[0]}`);
    }
    assert.not.ok(existsSync(join(hooks, 'qemu.d/nova-ipmeta')), `${label}: place-hook placed nothing`);
    const made = await setup(['state-dir'], '', bad);
    assert.equal([made.code, made.out], [0, `${said}state: ${state} (0700, root)\n`], label);
    const uninstalled = await setup(['uninstall'], '', bad);
    assert.is(uninstalled.code, 0, `${label}: ${uninstalled.err}`);
    assert.ok(uninstalled.out.startsWith(said), label);
    const purged = await setup(['purge'], '', bad);
    assert.equal([purged.code, purged.out], [0, `${said}state: removed ${state} and the network_info cache\n`], label);
    assert.not.ok(existsSync(state), label);
    for (const out of [removed.out, made.out, uninstalled.out, purged.out]) assert.not.match(out, 's3cret', `${label}: a value of the config file said`);
  }
});

// Without systemd only: elsewhere enable-services runs systemctl (the host tests cover both).
const withoutSystemd = (name: string, body: () => Promise<void>) => {
  if (systemdRuns()) t.skip(name, body);
  else t(name, body);
};
withoutSystemd("enable-services without systemd stops this installation's watcher, and no other process, for cron to start the new code", async () => {
  const sleeper = 'setInterval(() => {}, 1 << 30);\n';
  const ours = join(libdir, 'nova-ipmeta.cjs');
  const another = join(root, 'elsewhere/nova-ipmeta.cjs');
  mkdirSync(join(root, 'elsewhere'));
  writeFileSync(ours, sleeper);
  writeFileSync(another, sleeper);
  const started: ChildProcess[] = [];
  const start = async (argv: string[]) => {
    const child = spawn(process.execPath, argv, { stdio: 'ignore' });
    started.push(child);
    // Until it runs as node with these arguments (before its exec, /proc shows the test's own).
    for (let i = 0; !existsSync(`/proc/${child.pid}/cmdline`) || !readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').includes(argv.join('\0')); i++) {
      if (i > 200) throw new Error(`${argv.join(' ')} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return child;
  };
  try {
    const watcher = await start([ours, 'watch']);
    const otherCommand = await start([ours, 'reconcile']);
    const otherInstallation = await start([another, 'watch']);
    const exited = once(watcher, 'exit');
    const r = await setup(['enable-services']);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, `services: stopped the watcher (pid ${watcher.pid}): cron starts it again, with this code, within a minute\n`);
    assert.is(r.out.match(/stopped the watcher/g)?.length, 1, r.out);
    assert.equal(await exited, [null, 'SIGTERM']);
    assert.equal([otherCommand.exitCode, otherCommand.signalCode, otherInstallation.exitCode, otherInstallation.signalCode], [null, null, null, null], 'the others still run');
  } finally {
    for (const child of started) child.kill('SIGKILL');
  }
});

t('an unknown action is bad input', async () => {
  const r = await setup(['frobnicate']);
  assert.is(r.code, 2);
  assert.match(r.err, '"frobnicate": expected one of check-hook, place-hook');
});

t.run();
