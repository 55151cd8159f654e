/**
 * `doctor`'s verdicts, one check at a time, on real files in a temporary tree and the real /proc
 * (the whole command against a real daemon is in test/packaging/install.libvirt.test.ts).
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDomain } from '../../src/core/domain';
import type { CacheEntry } from '../../src/adapters/cache-store';
import type { CodeCacheReport, CodeCacheState } from '../../src/adapters/code-cache';
import { parseUuid, type Uuid } from '../../src/core/model';
import {
  checkCache,
  checkCodeCache,
  checkConfig,
  checkDaemon,
  checkHook,
  checkHookSeen,
  checkLibvirtVersion,
  checkNode,
  checkPrivateDir,
  checkServices,
  daemonAdvice,
  type CheckResult,
  type DirObservation,
} from '../../src/commands/doctor/checks';
import { parseIni } from '../../src/core/ini';
import type { LibvirtRoute } from '../../src/adapters/libvirt/open';
import { isExecutableFile } from '../../src/commands/doctor/observe';
import { formatResults } from '../../src/commands/doctor/run';
import { findHookFiles, runsQemuD, type HookFile } from '../../src/adapters/host/hook-files';
import { containerOf, isWatcher, processesElsewhere, processesOf, type ContainedProcess, type HostProcess } from '../../src/adapters/host/processes';
import { fixturePath } from '../support/cli';

const tmp = mkdtempSync(join(tmpdir(), 'nova-ipmeta-doctor-'));
let n = 0;
const HOOK = '#!/bin/sh\n# managed-by: nova-ipmeta\nNOVA_IPMETA=/bin/true\nexit 0\n';
const FOREIGN = '#!/bin/sh\necho mine\n';

function hooksDir(files: Record<string, { text: string; mode: number }>): string {
  const dir = join(tmp, `hooks${n++}`);
  mkdirSync(join(dir, 'qemu.d'), { recursive: true });
  for (const [name, { text, mode }] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), mode);
  }
  return dir;
}

const statusOf = (r: CheckResult | CheckResult[]) => (Array.isArray(r) ? r.map((x) => x.status) : r.status);
const uuid = (text: string): Uuid => {
  const u = parseUuid(text);
  if (!u) throw new Error(text);
  return u;
};

const t = suite('doctor checks');
t.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

t('hook: ours in qemu.d, executable, its command there: ok', () => {
  const dir = hooksDir({ 'qemu.d/nova-ipmeta': { text: HOOK, mode: 0o755 } });
  const r = checkHook(dir, findHookFiles(dir), isExecutableFile);
  assert.is(r.status, 'ok', r.detail);
  assert.match(r.detail, `${dir}/qemu.d/nova-ipmeta (nova-ipmeta's, executable, runs /bin/true)`);
});

t('hook: a foreign hooks/qemu is not ours, and is left out of the verdict', () => {
  const dir = hooksDir({ qemu: { text: FOREIGN, mode: 0o755 } });
  const files = findHookFiles(dir);
  assert.equal(
    files.map((f) => [f.place, f.ours]),
    [['qemu', false]],
  );
  const r = checkHook(dir, files, isExecutableFile);
  assert.is(r.status, 'fail');
  assert.match(r.detail, 'no nova-ipmeta hook in');
  assert.match(r.fix ?? '', 'install.sh');
});

t('hook: a foreign file at our name, not executable, a missing command, ours twice', () => {
  let dir = hooksDir({ 'qemu.d/nova-ipmeta': { text: FOREIGN, mode: 0o755 } });
  assert.match(checkHook(dir, findHookFiles(dir), isExecutableFile).detail, "is not nova-ipmeta's");
  dir = hooksDir({ 'qemu.d/nova-ipmeta': { text: HOOK, mode: 0o644 } });
  let r = checkHook(dir, findHookFiles(dir), isExecutableFile);
  assert.is(r.status, 'fail');
  assert.match(r.fix ?? '', `chmod 0755 ${dir}/qemu.d/nova-ipmeta`);
  dir = hooksDir({ 'qemu.d/nova-ipmeta': { text: HOOK.replace('/bin/true', '/nonexistent/nova-ipmeta'), mode: 0o755 } });
  r = checkHook(dir, findHookFiles(dir), isExecutableFile);
  assert.is(r.status, 'fail');
  assert.match(r.detail, 'runs /nonexistent/nova-ipmeta, which is not an executable file');
  dir = hooksDir({ 'qemu.d/nova-ipmeta': { text: HOOK, mode: 0o755 }, qemu: { text: HOOK, mode: 0o755 } });
  r = checkHook(dir, findHookFiles(dir), isExecutableFile);
  assert.is(r.status, 'warn');
  assert.match(r.detail, 'it runs twice');
});

t('libvirt: qemu.d from 6.5; a hook in qemu.d under older libvirt never runs; no daemon', () => {
  assert.equal(['6.4.0', '6.5.0', '6.5', '6.10.0', '9.0.0', '10.0.0', '5.99'].map(runsQemuD), [false, true, true, true, true, true, false]);
  const dir = hooksDir({ 'qemu.d/nova-ipmeta': { text: HOOK, mode: 0o755 } });
  const hook = findHookFiles(dir)[0];
  const socket: LibvirtRoute = { kind: 'socket', socket: '/run/libvirt/libvirt-sock' };
  const fine = checkLibvirtVersion('9.0.0', undefined, hook, socket);
  assert.equal([fine.status, fine.detail], ['ok', 'libvirt 9.0.0: runs hooks/qemu.d/ scripts (>= 6.5); calls over its socket /run/libvirt/libvirt-sock']);
  // Which way the calls go, and why virsh when it is virsh.
  const virsh = checkLibvirtVersion('9.0.0', 'qemu+ssh://elsewhere/system', hook, { kind: 'virsh', why: 'qemu+ssh://elsewhere/system is not the local system daemon' });
  assert.match(virsh.detail, '; calls through virsh (qemu+ssh://elsewhere/system is not the local system daemon)');
  const old = checkLibvirtVersion('6.0.0', undefined, hook, socket);
  assert.is(old.status, 'fail');
  assert.match(old.detail, 'runs only hooks/qemu, never');
  const down = checkLibvirtVersion(new Error('failed to connect to the hypervisor'), 'qemu:///system', hook, socket);
  assert.is(down.status, 'fail');
  assert.match(down.detail, 'cannot ask the daemon at qemu:///system: failed to connect');
});

t('hook seen: a daemon started before the hook appeared does not run it', () => {
  const dir = hooksDir({ 'qemu.d/nova-ipmeta': { text: HOOK, mode: 0o755 } });
  const path = join(dir, 'qemu.d/nova-ipmeta');
  utimesSync(path, new Date('2026-11-24T10:00:00Z'), new Date('2026-11-24T10:00:00Z'));
  const hook = findHookFiles(dir)[0] as HookFile;
  const daemon = (startedAt: string): HostProcess => ({ pid: 42, comm: 'libvirtd', argv: ['libvirtd'], startedAt: new Date(startedAt) });
  const early = [daemon('2026-11-24T09:00:00Z')];
  const SYSTEMD = { systemd: true, initScript: () => false };
  const SYSV = { systemd: false, initScript: (d: string) => d === 'libvirtd' };
  const BARE = { systemd: false, initScript: () => false };
  const seen = (h: HookFile | undefined, daemons: HostProcess[], watcherActive: boolean, restart: { systemd: boolean; initScript: (d: string) => boolean }, qemuDHeldSince?: Date) =>
    checkHookSeen(h, { daemons, watcherActive, systemd: restart.systemd, initScript: restart.initScript, qemuDHeldSince });
  // The watcher runs: a warning, with the one command that finishes it (what a fresh package install leaves).
  const covered = seen(hook, early, true, SYSTEMD);
  assert.is(covered.status, 'warn');
  assert.match(covered.detail, 'libvirtd (pid 42) started 2026-11-24T09:00:00.00Z, before the hook appeared (2026-11-24T10:00:00.00Z)');
  assert.match(covered.detail, 'the watcher covers guest starts meanwhile');
  assert.is(covered.fix, 'systemctl restart libvirtd (running guests keep running)');
  // No watcher: nothing reconciles a guest start, a failure.
  const blind = seen(hook, early, false, SYSTEMD);
  assert.is(blind.status, 'fail');
  assert.match(blind.detail, 'and no watcher runs');
  assert.is(seen(hook, early, false, SYSV).fix, 'service libvirtd restart (running guests keep running)');
  assert.is(seen(hook, early, false, BARE).fix, 'restart libvirtd (stop it and start it again) (running guests keep running)');
  assert.is(seen(hook, [daemon('2026-11-24T11:00:00Z')], true, SYSTEMD).status, 'ok');
  // qemu.d/ held another script when the daemon started: libvirt reads the directory at every call.
  const held = seen(hook, early, false, SYSTEMD, new Date('2026-11-24T08:00:00Z'));
  assert.is(held.status, 'ok');
  assert.match(held.detail, 'when hooks/qemu.d/ already held a script');
  assert.is(seen(hook, early, false, SYSTEMD, new Date('2026-11-24T09:30:00Z')).status, 'fail', 'that script came after the start');
  assert.is(seen(hook, [], true, SYSTEMD).status, 'warn');
  assert.is(seen(undefined, [daemon('2026-11-24T11:00:00Z')], true, SYSTEMD).status, 'warn');
});

t('a libvirtd in a container: named with its container, the hook never seen by it, advice that fits', () => {
  const dir = hooksDir({ 'qemu.d/nova-ipmeta': { text: HOOK, mode: 0o755 } });
  const hook = findHookFiles(dir)[0] as HookFile;
  const kolla: ContainedProcess = { pid: 4242, comm: 'libvirtd', argv: ['/usr/sbin/libvirtd'], startedAt: new Date(), container: 'docker container 0123456789ab' };
  const daemon = checkDaemon([], [kolla], true);
  assert.is(daemon.status, 'ok');
  assert.match(daemon.detail, 'libvirtd (pid 4242) in docker container 0123456789ab: containerized libvirt');
  // The host's hook is never run: the containerized mode is the advice, never a restart.
  const blind = checkHookSeen(hook, { daemons: [], elsewhere: [kolla], watcherActive: true, systemd: true });
  assert.is(blind.status, 'warn');
  assert.match(blind.detail, `runs in docker container 0123456789ab: it never runs ${hook.path}; the watcher covers guest starts`);
  assert.match(blind.fix ?? '', 'install.sh --no-hook');
  assert.not.match(blind.fix ?? '', 'systemctl');
  assert.is(checkHookSeen(hook, { daemons: [], elsewhere: [kolla], watcherActive: false, systemd: true }).status, 'fail');
  // Down or unreachable: look at the container, not at a service of this host.
  const down = checkLibvirtVersion(new Error('failed to connect to the hypervisor'), undefined, hook, { kind: 'virsh', why: 'no socket' }, daemonAdvice([kolla], true));
  assert.match(down.fix ?? '', 'is libvirtd in docker container 0123456789ab up');
  assert.match(down.fix ?? '', 'docker ps');
  assert.not.match(down.fix ?? '', 'systemctl');
  assert.match(checkCache(new Error('no daemon'), [], daemonAdvice([{ ...kolla, container: undefined }], true))[0]?.fix ?? '', 'in another mount namespace up');
  assert.is(checkDaemon([], [], true).status, 'warn');
});

t('installed without a hook: the hook checks say "not used in this mode"; a hook of ours then is a leftover', () => {
  const none = hooksDir({});
  const missing = checkHook(none, findHookFiles(none), isExecutableFile, { containerized: true });
  assert.is(missing.status, 'fail');
  assert.match(missing.detail, 'and libvirt runs in a container');
  assert.match(missing.fix ?? '', 'install.sh --no-hook');
  const r = checkHook(none, findHookFiles(none), isExecutableFile, { noHookFile: '/etc/nova-ipmeta/no-hook' });
  assert.is(r.status, 'ok');
  assert.match(r.detail, 'not used in this mode: installed without a hook (/etc/nova-ipmeta/no-hook)');
  const seen = checkHookSeen(undefined, { daemons: [], elsewhere: [], watcherActive: true, systemd: true, noHookFile: '/etc/nova-ipmeta/no-hook' });
  assert.equal([seen.status, seen.detail], ['ok', 'not used in this mode (installed without a hook)']);
  const dir = hooksDir({ 'qemu.d/nova-ipmeta': { text: HOOK, mode: 0o755 } });
  const leftover = checkHook(dir, findHookFiles(dir), isExecutableFile, { noHookFile: '/etc/nova-ipmeta/no-hook' });
  assert.is(leftover.status, 'warn');
  assert.match(leftover.fix ?? '', `rm ${dir}/qemu.d/nova-ipmeta`);
});

t('containerOf: the container runtime and id from /proc/PID/cgroup, cgroup v1 and v2', () => {
  const id = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
  assert.is(containerOf(`0::/system.slice/docker-${id}.scope\n`), 'docker container 0123456789ab');
  assert.is(containerOf(`12:pids:/docker/${id}\n11:cpu:/docker/${id}\n`), 'docker container 0123456789ab');
  assert.is(containerOf(`0::/machine.slice/libpod-${id}.scope/container\n`), 'podman container 0123456789ab');
  assert.is(containerOf(`0::/kubepods.slice/kubepods-besteffort.slice/cri-containerd-${id}.scope\n`), 'containerd container 0123456789ab');
  assert.is(containerOf('0::/lxc.payload.compute-1/init.scope\n'), 'lxc container compute-1');
  assert.is(containerOf('0::/system.slice/libvirtd.service\n'), undefined);
  assert.is(containerOf('0::/user.slice/user-0.slice/session-1.scope\n'), undefined);
});

t('processesElsewhere: none of this mount namespace; this very process is not among them', () => {
  assert.not.ok(processesElsewhere(() => true).some((p) => p.pid === process.pid));
});

t('processesOf: this very process, with its start time, from the real /proc', () => {
  const found = processesOf(() => true).find((p) => p.pid === process.pid);
  assert.ok(found, 'own process not found');
  const expected = Date.now() - process.uptime() * 1000;
  // Ticks are 10 ms; the process started before Node measured its uptime.
  assert.ok(Math.abs(found.startedAt.getTime() - expected) < 2000, `${found.startedAt.toISOString()} vs ${new Date(expected).toISOString()}`);
  assert.equal(found.argv[0], process.argv0);
});

t('processesOf, processesElsewhere: a zombie (a daemon that died unreaped) is neither', async () => {
  // A program named like no other process, started by a shell that then becomes a `sleep`, which
  // never reaps it.
  const name = `nizomb${process.pid % 100000}`;
  const program = join(tmp, name);
  copyFileSync('/bin/true', program);
  chmodSync(program, 0o755);
  const parent = spawn('/bin/sh', ['-c', '"$0" & exec sleep 30', program], { stdio: 'ignore' });
  try {
    const zombie = async (): Promise<string | undefined> => {
      for (let i = 0; i < 100; i++) {
        for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
            if (stat.includes(`(${name}) Z `)) return pid;
          } catch {
            // gone meanwhile
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return undefined;
    };
    const pid = await zombie();
    assert.ok(pid, `no zombie ${name} appeared`);
    assert.is(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), name);
    assert.equal(processesOf((comm) => comm === name), []);
    assert.equal(processesElsewhere((comm) => comm === name), []);
  } finally {
    parent.kill('SIGKILL');
  }
});

t('state and cache directories: missing, open to others, writable by others, private', () => {
  const base = join(tmp, `state${n++}`);
  const seen = (): DirObservation => {
    try {
      return { kind: 'stat', stats: statSync(base) };
    } catch (err) {
      return { kind: 'error', code: (err as { code: string }).code };
    }
  };
  assert.is(checkPrivateDir('state dir', base, seen()).status, 'fail');
  mkdirSync(base, { mode: 0o755 });
  chmodSync(base, 0o755);
  const open = checkPrivateDir('state dir', base, seen());
  assert.is(open.status, 'warn');
  assert.match(open.fix ?? '', `chmod 0700 ${base}`);
  chmodSync(base, 0o777);
  const writable = checkPrivateDir('state dir', base, seen());
  assert.is(writable.status, 'fail');
  assert.match(writable.detail, 'nova-ipmeta refuses it');
  chmodSync(base, 0o700);
  assert.is(checkPrivateDir('state dir', base, seen()).status, 'ok');
});

t('config: a file holding a Keystone secret that others can read is a warning; 0640, or no secret, is fine', () => {
  const path = join(tmp, `conf${n++}`);
  const seen = (): DirObservation => ({ kind: 'stat', stats: statSync(path) });
  const withSecret = '[neutron]\nauth_type = password\nusername = nova\npassword = s3cret\n';
  writeFileSync(path, withSecret);
  chmodSync(path, 0o644);
  const open = checkConfig(path, parseIni(withSecret, path), seen(), 'read');
  assert.equal([open.status, open.detail, open.fix], ['warn', `${path} holds a secret ([neutron] password) and others can read it (mode 0644)`, `chmod 0640 ${path}`]);
  const appCred = '[neutron]\napplication_credential_id = x\napplication_credential_secret = y\n';
  assert.is(checkConfig(path, parseIni(appCred, path), seen(), 'read').status, 'warn');
  chmodSync(path, 0o640);
  assert.equal(checkConfig(path, parseIni(withSecret, path), seen(), 'read'), { check: 'config', status: 'ok', detail: 'read' });
  chmodSync(path, 0o644);
  assert.is(checkConfig(path, parseIni('[neutron]\nusername = nova\n#password = s3cret\npassword =\n', path), seen(), 'read').status, 'ok', 'no secret in it');
});

t('cache: instances without a file fail; invalid files fail; files of instances elsewhere warn', () => {
  const domains = ['domains/pre-wallaby.xml', 'domains/wallaby-nova-ports.xml', 'domains/not-nova.xml'].map((f) => parseDomain(readFileSync(fixturePath(f), 'utf8'), f));
  const [pre, wallaby] = domains.map((d) => d.uuid);
  const entry = (u: Uuid): CacheEntry => ({ uuid: u, mtime: new Date(), ports: 1, addresses: 1 });
  assert.equal(statusOf(checkCache(domains, [entry(pre as Uuid), entry(wallaby as Uuid)])), ['ok']);
  const missing = checkCache(domains, [entry(wallaby as Uuid)]);
  assert.equal(statusOf(missing), ['fail']);
  assert.match(missing[0]?.detail ?? '', `1 instance of 2 without a cache file: instance-0000002a (${pre ?? ''})`);
  const stray = uuid('33333333-2222-4333-8444-555555555555');
  const mixed = checkCache(domains, [entry(pre as Uuid), entry(wallaby as Uuid), entry(stray), { uuid: uuid('22222222-2222-4333-8444-555555555555'), mtime: undefined, error: 'bad JSON' }]);
  assert.equal(statusOf(mixed), ['ok', 'fail', 'warn']);
  assert.match(mixed[2]?.detail ?? '', stray);
  assert.is(statusOf(checkCache(new Error('no daemon'), [])).toString(), 'fail');
});

t('services: systemd units when systemd runs, else the cron file', () => {
  const systemd = { kind: 'systemd', watch: 'active', timerEnabled: 'enabled', timerActive: 'active' } as const;
  assert.equal(statusOf(checkServices(systemd)), ['ok', 'ok']);
  const failed = checkServices({ ...systemd, watch: 'failed' });
  assert.equal(statusOf(failed), ['fail', 'ok']);
  assert.match(failed[0]?.fix ?? '', 'journalctl -u nova-ipmeta-watch.service');
  assert.equal(statusOf(checkServices({ ...systemd, timerEnabled: 'disabled' })), ['ok', 'fail']);

  const proc = (pid: number, comm: string, argv: string[]): HostProcess => ({ pid, comm, argv, startedAt: new Date() });
  const cron = { kind: 'cron', cronFile: '/etc/cron.d/nova-ipmeta', cronFileExists: true, cronDaemon: undefined, watcher: undefined } as const;
  assert.equal(statusOf(checkServices({ ...cron, cronFileExists: false })), ['fail']);
  assert.equal(statusOf(checkServices(cron)), ['ok', 'warn', 'warn']);
  const running = { ...cron, cronDaemon: proc(1, 'cron', ['/usr/sbin/cron']), watcher: proc(2, 'node', ['/usr/bin/node', '/usr/lib/nova-ipmeta/nova-ipmeta.cjs', 'watch']) };
  assert.equal(statusOf(checkServices(running)), ['ok', 'ok']);
});

t('a watcher: the bundle run by Node, or the installed command, a link the kernel names the process after', () => {
  const proc = (comm: string, argv: string[]): HostProcess => ({ pid: 2, comm, argv, startedAt: new Date() });
  assert.ok(isWatcher(proc('node', ['/usr/bin/node', '/usr/lib/nova-ipmeta/nova-ipmeta.cjs', 'watch'])));
  assert.ok(isWatcher(proc('nodejs', ['nodejs', 'nova-ipmeta.cjs', 'watch', '--debounce', '20'])));
  assert.ok(isWatcher(proc('nova-ipmeta', ['/usr/bin/node', '/usr/sbin/nova-ipmeta', 'watch'])));
  assert.not.ok(isWatcher(proc('nova-ipmeta', ['/usr/bin/node', '/usr/sbin/nova-ipmeta', 'reconcile'])));
  assert.not.ok(isWatcher(proc('python3', ['/usr/bin/python3', '/usr/sbin/nova-ipmeta', 'watch'])));
  assert.not.ok(isWatcher(proc('node', ['/usr/bin/node', '/srv/another-nova-ipmeta.js', 'watch'])));
});

t("node: the build's minimum and newer", () => {
  assert.is(checkNode('18.19.0', '/usr/bin/node', '18.19').status, 'ok');
  assert.is(checkNode('20.20.2', '/usr/bin/node', '18.19').status, 'ok');
  assert.is(checkNode('18.18.2', '/usr/bin/node', '18.19').status, 'fail');
  assert.is(checkNode('19.0.0', '/usr/bin/node', '20.1').status, 'fail');
  assert.match(checkNode('18.18.2', '/usr/bin/node', undefined).detail, 'development build');
});

t('code cache: used by every program, missing, of another Node or build, refused by V8; none from source', () => {
  const report = (whole: CodeCacheState, hook: CodeCacheState, offline: CodeCacheState, read: CodeCacheState, xml: CodeCacheState, fileExists = true): CodeCacheReport => ({
    bundle: '/usr/lib/nova-ipmeta/nova-ipmeta.cjs',
    file: '/usr/lib/nova-ipmeta/nova-ipmeta.cjs.cache',
    fileExists,
    programs: [
      { program: 'whole program', state: whole },
      { program: 'hook engine', state: hook },
      { program: 'offline commands', state: offline },
      { program: 'read commands', state: read },
      { program: 'XML library', state: xml },
    ],
  });
  const node = '/usr/bin/node';
  assert.equal(checkCodeCache(report('used', 'used', 'used', 'used', 'used'), node), {
    check: 'code cache',
    status: 'ok',
    detail: '/usr/lib/nova-ipmeta/nova-ipmeta.cjs.cache, used by the whole program, the hook engine, the offline commands, the read commands and the XML library',
  });
  const remake = '/usr/bin/node /usr/lib/nova-ipmeta/nova-ipmeta.cjs --write-code-cache (the package does it when nodejs changes)';
  for (const [whole, hook, offline, read, xml, fileExists, detail] of [
    ['none', 'none', 'none', 'none', 'none', false, /nova-ipmeta\.cjs\.cache is missing: every start compiles the program$/],
    ['none', 'none', 'none', 'none', 'none', true, /is for another Node or another build, or cut short: /],
    ['used', 'refused', 'used', 'used', 'used', true, /: V8 refuses its data for the hook engine \(made by another V8/],
    ['used', 'used', 'refused', 'used', 'used', true, /: V8 refuses its data for the offline commands \(made by another V8/],
    ['used', 'used', 'used', 'refused', 'used', true, /: V8 refuses its data for the read commands \(made by another V8/],
    ['used', 'used', 'used', 'used', 'refused', true, /: V8 refuses its data for the XML library \(made by another V8/],
    ['refused', 'refused', 'used', 'used', 'used', true, /: V8 refuses its data for the whole program and the hook engine \(/],
    ['refused', 'refused', 'refused', 'refused', 'refused', true, /: V8 refuses its data for the whole program, the hook engine, the offline commands, the read commands and the XML library \(/],
  ] as const) {
    const r = checkCodeCache(report(whole, hook, offline, read, xml, fileExists), node);
    assert.is(r.status, 'warn', `${whole} ${hook} ${offline} ${read} ${xml}`);
    assert.match(r.detail, detail);
    assert.is(r.fix, remake);
  }
  assert.equal(checkCodeCache(undefined, node), { check: 'code cache', status: 'ok', detail: 'none: run from source, not from the bundle' });
});

t('format: one line per check, ok/warn/FAIL, and what to do', () => {
  const text = formatResults([
    { check: 'node', status: 'ok', detail: 'v20' },
    { check: 'hook', status: 'fail', detail: 'missing\nreally', fix: 'install it' },
    { check: 'cron daemon', status: 'warn', detail: 'none', fix: 'start one' },
  ]);
  assert.is(text, 'ok    node: v20\nFAIL  hook: missing really; to fix: install it\nwarn  cron daemon: none; to fix: start one\n');
});

t.run();
