/**
 * install.sh on the same kind of host as the .deb's test (Debian 12, systemd as PID 1,
 * libvirt-daemon-system running guests): from a checkout, as an operator runs it, then
 * --restart-libvirtd, --uninstall and --uninstall --purge.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HostSystem, hostUnsupported, msSince, REPO, SYSTEMD_HOST } from '../support/host/host-system';
import { awaitPorts, cachePut, defineGuest, doctor, ensureBundle, prove, redefine, shutdown, unitProperty, waitForLibvirt, watcherPids, type HostGuest } from '../support/host/scenario';

const CHECKOUT = '/srv/nova-ipmeta';
const UNITS = ['nova-ipmeta-reconcile.service', 'nova-ipmeta-reconcile.timer', 'nova-ipmeta-watch.service'];
const t = suite('install.sh on a Debian 12 host with systemd and libvirt-daemon-system');
let h: HostSystem | undefined;
let running: HostGuest;
let later: HostGuest;
let afterRestart: HostGuest;
let before: string;
const figures: Record<string, string | number> = {};

function sys(): HostSystem {
  if (!h) throw new Error('no system booted');
  return h;
}

/** Every file under the places install.sh writes to, for comparing before and after. */
function tree(h: HostSystem): string {
  return h.ok(['sh', '-c', 'find /etc /usr /var/lib /lib/systemd -xdev \\( -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/lib/systemd/deb-systemd-helper-enabled \\) -prune -o -print | LC_ALL=C sort']);
}

t.before(async () => {
  const reason = hostUnsupported();
  if (reason) throw new Error(reason);
  ensureBundle();
  const layer = HostSystem.packages();
  h = HostSystem.boot('nova-ipmeta-installsh', { packages: layer, roBinds: [[REPO, CHECKOUT]] });
  h.install(...SYSTEMD_HOST);
  await waitForLibvirt(h);
  running = defineGuest(h, 'running');
  later = defineGuest(h, 'later');
  h.ok(['virsh', '-q', 'start', running.name]);
  before = tree(h);
});

t.after(() => {
  prove('install.sh', figures);
  shutdown(h);
  h = undefined;
});

t('install.sh while libvirtd runs: systemd units enabled and running, the one command that finishes', () => {
  const h = sys();
  const libvirtd = unitProperty(h, 'libvirtd.service', 'MainPID');
  const start = process.hrtime.bigint();
  const r = h.exec(['bash', `${CHECKOUT}/install.sh`]);
  figures.install_ms = msSince(start);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'hook: /etc/libvirt/hooks/qemu.d/nova-ipmeta (installed)');
  assert.match(r.stdout, 'hook: to finish, run once:  systemctl restart libvirtd\n');
  assert.match(r.stdout, '--restart-libvirtd');
  assert.is(unitProperty(h, 'libvirtd.service', 'MainPID'), libvirtd, 'install.sh restarts libvirtd only when asked');
  for (const u of UNITS) assert.is(h.exec(['test', '-f', `/usr/lib/systemd/system/${u}`]).code, 0, u);
  assert.is(h.exec(['test', '-e', '/etc/cron.d/nova-ipmeta']).code, 1, 'no cron file where systemd runs');
  assert.is(h.systemctl('is-active', 'nova-ipmeta-watch.service'), 'active');
  assert.is(h.systemctl('is-enabled', 'nova-ipmeta-reconcile.timer'), 'enabled');
  assert.is(h.systemctl('is-active', 'nova-ipmeta-reconcile.timer'), 'active');
  const verify = h.exec(['systemd-analyze', 'verify', '--man=no', ...UNITS.map((u) => `/usr/lib/systemd/system/${u}`)]);
  assert.is(verify.code, 0, verify.stderr);
  assert.is(verify.stdout + verify.stderr, '');
});

t('before any restart: a guest that starts gets its ports (the watcher); doctor warns with the command, the code cache used', async () => {
  const h = sys();
  for (const g of [running, later]) cachePut(h, g);
  await awaitPorts(h, running, 'the watcher, on its cache file');
  redefine(h, later);
  h.ok(['virsh', '-q', 'start', later.name]);
  await awaitPorts(h, later, 'the watcher');
  // Needs the doctor of issue #11 (hook not yet seen while the watcher runs: a warning, exit 0).
  const d = doctor(h);
  assert.match(d.out, /^warn {2}hook seen: .*systemctl restart libvirtd/m, d.out);
  // install.sh made V8's code cache, and V8 takes each program's part.
  assert.match(d.out, /^ok {4}code cache: \/usr\/lib\/nova-ipmeta\/nova-ipmeta\.cjs\.cache, used by the whole program, the hook engine, the offline commands, the read commands and the XML library$/m, d.out);
  assert.is(d.code, 0, d.out);
});

t('install.sh --restart-libvirtd: idempotent, restarts libvirtd; then the hook writes the ports alone', async () => {
  const h = sys();
  const r = h.exec(['bash', `${CHECKOUT}/install.sh`, '--restart-libvirtd']);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout, 'installed /');
  assert.match(r.stdout, 'libvirt: restarted libvirtd.service');
  assert.not.match(r.stdout, 'to finish, run once');
  const d = doctor(h);
  assert.match(d.out, /^ok {4}hook seen: libvirtd/m, d.out);
  assert.is(d.code, 0, d.out);
  h.ok(['systemctl', 'stop', 'nova-ipmeta-watch.service', 'nova-ipmeta-reconcile.timer']);
  assert.equal(watcherPids(h), []);
  afterRestart = defineGuest(h, 'restart');
  cachePut(h, afterRestart);
  h.ok(['virsh', '-q', 'start', afterRestart.name]);
  await awaitPorts(h, afterRestart, 'the hook');
  await h.until("the hook's reconcile in the journal", () =>
    new RegExp(`repaired +${afterRestart.name}`).test(h.exec(['journalctl', '-q', '--no-pager', '-t', 'nova-ipmeta']).stdout) ? true : undefined,
  );
  h.ok(['systemctl', 'start', 'nova-ipmeta-watch.service', 'nova-ipmeta-reconcile.timer']);
});

t('--uninstall leaves no unit, hook or failed unit (the cache stays); --purge leaves the tree as before', () => {
  const h = sys();
  const r = h.exec(['bash', `${CHECKOUT}/install.sh`, '--uninstall']);
  assert.is(r.code, 0, r.stderr);
  assert.is(h.ok(['systemctl', 'list-units', '--all', '--plain', '--no-legend', 'nova-ipmeta*']), '');
  assert.match(h.exec(['systemctl', 'list-unit-files', '--no-pager', 'nova-ipmeta*']).stdout, '0 unit files listed.');
  assert.is(h.ok(['systemctl', '--failed', '--plain', '--no-legend']), '');
  assert.equal(watcherPids(h), []);
  assert.is(h.ok(['find', '/etc/systemd', '/usr/lib/systemd', '/etc/libvirt/hooks', '-name', '*nova-ipmeta*']), '');
  assert.is(h.exec(['test', '-d', '/var/lib/nova-ipmeta/network_info']).code, 0, 'the cache stays');
  const purged = h.exec(['bash', `${CHECKOUT}/install.sh`, '--uninstall', '--purge']);
  assert.is(purged.code, 0, purged.stderr);
  const after = tree(h);
  const added = after.split('\n').filter((l) => !before.includes(`${l}\n`));
  const gone = before.split('\n').filter((l) => !after.includes(`${l}\n`));
  // What libvirt itself made meanwhile (guest state, the hooks directory it keeps) is not ours.
  const ours = (l: string) => /nova-ipmeta/.test(l);
  assert.equal(added.filter(ours), [], 'left behind');
  assert.equal(gone.filter(ours), [], 'removed');
  for (const g of [running, later, afterRestart]) assert.is(h.ok(['virsh', 'domstate', g.name]).trim(), 'running');
});

t.run();
