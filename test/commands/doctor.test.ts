/**
 * `doctor`'s verdicts, one check at a time, on real files in a temporary tree and the real /proc
 * (the whole command against a real daemon is in test/packaging/install.libvirt.test.ts).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDomain } from '../../src/core/domain';
import type { CacheEntry } from '../../src/adapters/cache-store';
import { parseUuid, type Uuid } from '../../src/core/model';
import { checkCache, checkHook, checkHookSeen, checkLibvirtVersion, checkNode, checkPrivateDir, checkServices, type CheckResult, type DirObservation } from '../../src/commands/doctor/checks';
import { isExecutableFile } from '../../src/commands/doctor/observe';
import { formatResults } from '../../src/commands/doctor/run';
import { findHookFiles, runsQemuD, type HookFile } from '../../src/adapters/host/hook-files';
import { processesOf, type HostProcess } from '../../src/adapters/host/processes';
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
  assert.is(checkLibvirtVersion('9.0.0', undefined, hook).status, 'ok');
  const old = checkLibvirtVersion('6.0.0', undefined, hook);
  assert.is(old.status, 'fail');
  assert.match(old.detail, 'runs only hooks/qemu, never');
  const down = checkLibvirtVersion(new Error('failed to connect to the hypervisor'), 'qemu:///system', hook);
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
  // The watcher runs: a warning, with the one command that finishes it (what a fresh package install leaves).
  const covered = checkHookSeen(hook, early, true, SYSTEMD);
  assert.is(covered.status, 'warn');
  assert.match(covered.detail, 'libvirtd (pid 42) started 2026-11-24T09:00:00.00Z, before the hook appeared (2026-11-24T10:00:00.00Z)');
  assert.match(covered.detail, 'the watcher covers guest starts meanwhile');
  assert.is(covered.fix, 'systemctl restart libvirtd (running guests keep running)');
  // No watcher: nothing reconciles a guest start, a failure.
  const blind = checkHookSeen(hook, early, false, SYSTEMD);
  assert.is(blind.status, 'fail');
  assert.match(blind.detail, 'and no watcher runs');
  assert.is(checkHookSeen(hook, early, false, SYSV).fix, 'service libvirtd restart (running guests keep running)');
  assert.is(checkHookSeen(hook, early, false, BARE).fix, 'restart libvirtd (stop it and start it again) (running guests keep running)');
  assert.is(checkHookSeen(hook, [daemon('2026-11-24T11:00:00Z')], true, SYSTEMD).status, 'ok');
  // qemu.d/ held another script when the daemon started: libvirt reads the directory at every call.
  const held = checkHookSeen(hook, early, false, SYSTEMD, new Date('2026-11-24T08:00:00Z'));
  assert.is(held.status, 'ok');
  assert.match(held.detail, 'when hooks/qemu.d/ already held a script');
  assert.is(checkHookSeen(hook, early, false, SYSTEMD, new Date('2026-11-24T09:30:00Z')).status, 'fail', 'that script came after the start');
  assert.is(checkHookSeen(hook, [], true, SYSTEMD).status, 'warn');
  assert.is(checkHookSeen(undefined, [daemon('2026-11-24T11:00:00Z')], true, SYSTEMD).status, 'warn');
});

t('processesOf: this very process, with its start time, from the real /proc', () => {
  const found = processesOf(() => true).find((p) => p.pid === process.pid);
  assert.ok(found, 'own process not found');
  const expected = Date.now() - process.uptime() * 1000;
  // Ticks are 10 ms; the process started before Node measured its uptime.
  assert.ok(Math.abs(found.startedAt.getTime() - expected) < 2000, `${found.startedAt.toISOString()} vs ${new Date(expected).toISOString()}`);
  assert.equal(found.argv[0], process.argv0);
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

t("node: the build's minimum and newer", () => {
  assert.is(checkNode('18.19.0', '/usr/bin/node', '18.19').status, 'ok');
  assert.is(checkNode('20.20.2', '/usr/bin/node', '18.19').status, 'ok');
  assert.is(checkNode('18.18.2', '/usr/bin/node', '18.19').status, 'fail');
  assert.is(checkNode('19.0.0', '/usr/bin/node', '20.1').status, 'fail');
  assert.match(checkNode('18.18.2', '/usr/bin/node', undefined).detail, 'development build');
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
