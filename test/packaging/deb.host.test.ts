/**
 * The .deb on a real Debian 12 host, in a throwaway system booted by test/support/host/system.sh:
 * Debian's systemd as PID 1, libvirt-daemon-system's own libvirtd under it with nova guests
 * running, then `dpkg -i` as an operator does it on a running hypervisor: what the postinst says,
 * the timer and the watcher, a guest started before any libvirtd restart, doctor, the restart and
 * the hook, an upgrade over an edited conffile, remove and purge.
 */
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HostSystem, hostUnsupported, msSince, SYSTEMD_HOST } from '../support/host/host-system';
import {
  awaitPorts,
  buildDebs,
  cachePut,
  defineGuest,
  doctor,
  redefine,
  exposure,
  prove,
  shutdown,
  unitProperty,
  UPGRADE_VERSION,
  VERSION,
  waitForLibvirt,
  watcherPids,
  type HostGuest,
} from '../support/host/scenario';

const UNITS = ['nova-ipmeta-reconcile.service', 'nova-ipmeta-reconcile.timer', 'nova-ipmeta-watch.service'];
const CONF = '/etc/nova-ipmeta/nova-ipmeta.conf';
const TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';

const t = suite('the .deb on a Debian 12 host with systemd and libvirt-daemon-system');
let h: HostSystem | undefined;
let debs: { dir: string; deb: string; upgrade: string };
let running: HostGuest; // started before nova-ipmeta is installed
let later: HostGuest; // started after dpkg -i, before libvirtd restarts
let afterRestart: HostGuest; // defined, cached and started after the restart, with the watcher stopped
const figures: Record<string, string | number> = {};

function sys(): HostSystem {
  if (!h) throw new Error('no system booted');
  return h;
}

t.before(async () => {
  const reason = hostUnsupported();
  if (reason) throw new Error(reason);
  debs = buildDebs();
  const layer = HostSystem.packages();
  let start = process.hrtime.bigint();
  h = HostSystem.boot('nova-ipmeta-deb', { packages: layer, roBinds: [[debs.dir, '/srv/debs']] });
  figures.boot_ms = msSince(start);
  start = process.hrtime.bigint();
  h.install(...SYSTEMD_HOST);
  figures.apt_install_ms = msSince(start);
  await waitForLibvirt(h);
  running = defineGuest(h, 'running');
  later = defineGuest(h, 'later');
  h.ok(['virsh', '-q', 'start', running.name]);
});

t.after(() => {
  prove('deb', figures);
  shutdown(h);
  h = undefined;
  // The packages, once no system has them bound any more (unset when the build itself failed).
  const built = debs as typeof debs | undefined;
  if (built) rmSync(built.dir, { recursive: true, force: true });
});

t('dpkg -i on a host whose libvirtd runs guests: the postinst restarts nothing and says what to run', () => {
  const h = sys();
  const libvirtd = unitProperty(h, 'libvirtd.service', 'MainPID');
  assert.is(h.systemctl('is-active', 'libvirtd.service'), 'active');
  const start = process.hrtime.bigint();
  const r = h.exec(['dpkg', '-i', `/srv/debs/${debs.deb}`]);
  figures.dpkg_i_ms = msSince(start);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'hook: /etc/libvirt/hooks/qemu.d/nova-ipmeta (installed)');
  assert.match(r.stdout, /hook: libvirtd \(pid \d+\) was running before the hook appeared/);
  assert.match(r.stdout, 'hook: to finish, run once:  systemctl restart libvirtd\n');
  assert.match(r.stdout, 'until then, the watcher (nova-ipmeta watch) writes the ports of guests that start');
  assert.is(unitProperty(h, 'libvirtd.service', 'MainPID'), libvirtd, 'the postinst must not restart libvirtd');
  assert.is(h.ok(['dpkg-query', '-W', '-f', '${Version} ${db:Status-Abbrev}', 'nova-ipmeta']).trim(), `${VERSION} ii`);
});

t('the watcher is active, the timer is listed', () => {
  const h = sys();
  assert.is(h.systemctl('is-active', 'nova-ipmeta-watch.service'), 'active');
  assert.is(h.systemctl('is-enabled', 'nova-ipmeta-watch.service'), 'enabled');
  assert.is(h.systemctl('is-enabled', 'nova-ipmeta-reconcile.timer'), 'enabled');
  assert.match(h.ok(['systemctl', 'list-timers', '--no-pager', '--all']), /nova-ipmeta-reconcile\.timer\s+nova-ipmeta-reconcile\.service/);
  assert.is(watcherPids(h).length, 1);
});

t('a guest started right after dpkg -i, before any libvirtd restart, gets its ports (the watcher)', async () => {
  const h = sys();
  for (const g of [running, later]) cachePut(h, g);
  await awaitPorts(h, running, 'the watcher, on its cache file');
  redefine(h, later);
  const start = process.hrtime.bigint();
  h.ok(['virsh', '-q', 'start', later.name]);
  await awaitPorts(h, later, 'the watcher, on the guest start');
  figures.start_to_ports_by_watcher_ms = msSince(start);
});

t('doctor right after dpkg -i: exit 0, the pending libvirtd restart a warning with the one command, the code cache used', () => {
  // Needs the doctor of issue #11 (checkHookSeen: a hook not yet seen while the watcher runs is a
  // warning naming `systemctl restart libvirtd`, exit 0).
  const d = doctor(sys());
  figures.doctor_before_restart_exit = d.code;
  assert.match(d.out, /^warn {2}hook seen: .*systemctl restart libvirtd/m, d.out);
  // The postinst made V8's code cache, and V8 takes each program's part.
  assert.match(d.out, /^ok {4}code cache: \/usr\/lib\/nova-ipmeta\/nova-ipmeta\.cjs\.cache, used by the whole program, the hook engine, the offline commands, the read commands and the XML library$/m, d.out);
  assert.is(d.code, 0, d.out);
});

t('the timer fires by itself (shortened by a drop-in) and the periodic reconcile writes its metrics', async () => {
  const h = sys();
  h.ok(['mkdir', '-p', TEXTFILE_DIR]);
  h.write('/etc/systemd/system/nova-ipmeta-reconcile.timer.d/test.conf', '[Timer]\nOnCalendar=\nOnCalendar=*:*:0/2\nRandomizedDelaySec=0\nAccuracySec=100ms\n');
  h.ok(['systemctl', 'daemon-reload']);
  h.ok(['systemctl', 'restart', 'nova-ipmeta-reconcile.timer']);
  const metrics = await h.until('the periodic reconcile to write nova-ipmeta.prom', () => {
    const r = h.exec(['cat', `${TEXTFILE_DIR}/nova-ipmeta.prom`]);
    return r.code === 0 && r.stdout.includes('nova_ipmeta_reconcile_last_success_timestamp_seconds') ? r.stdout : undefined;
  });
  assert.match(metrics, /nova_ipmeta_reconcile_domains\{outcome="error"\} 0/);
  await h.until('the reconcile service to finish', () => (unitProperty(h, 'nova-ipmeta-reconcile.service', 'ActiveState') === 'inactive' ? true : undefined));
  assert.is(unitProperty(h, 'nova-ipmeta-reconcile.service', 'Result'), 'success');
  h.ok(['rm', '-r', '/etc/systemd/system/nova-ipmeta-reconcile.timer.d']);
  h.ok(['systemctl', 'daemon-reload']);
  h.ok(['systemctl', 'restart', 'nova-ipmeta-reconcile.timer']);
});

t('after systemctl restart libvirtd the hook writes the ports, with the watcher stopped', async () => {
  const h = sys();
  h.ok(['systemctl', 'restart', 'libvirtd.service']);
  await h.until('libvirtd active again', () => (h.systemctl('is-active', 'libvirtd.service') === 'active' ? true : undefined));
  const d = doctor(h);
  assert.match(d.out, /^ok {4}hook seen: libvirtd/m, d.out);
  assert.is(d.code, 0, d.out);
  assert.is(h.ok(['virsh', 'domstate', running.name]).trim(), 'running', 'guests survive the restart');
  h.ok(['systemctl', 'stop', 'nova-ipmeta-watch.service', 'nova-ipmeta-reconcile.timer']);
  assert.equal(watcherPids(h), []);
  afterRestart = defineGuest(h, 'restart');
  cachePut(h, afterRestart);
  const start = process.hrtime.bigint();
  h.ok(['virsh', '-q', 'start', afterRestart.name]);
  await awaitPorts(h, afterRestart, 'the hook');
  figures.start_to_ports_by_hook_ms = msSince(start);
  // The hook's detached reconcile logs to the journal (tag nova-ipmeta) once it has written.
  await h.until('the hook\'s reconcile in the journal', () =>
    new RegExp(`repaired +${afterRestart.name}`).test(h.exec(['journalctl', '-q', '--no-pager', '-t', 'nova-ipmeta']).stdout) ? true : undefined,
  );
  h.ok(['systemctl', 'start', 'nova-ipmeta-watch.service', 'nova-ipmeta-reconcile.timer']);
});

t('systemd-analyze verify passes and security is recorded', () => {
  const h = sys();
  const verify = h.exec(['systemd-analyze', 'verify', '--man=no', ...UNITS.map((u) => `/lib/systemd/system/${u}`)]);
  assert.is(verify.code, 0, verify.stderr);
  assert.is(verify.stdout + verify.stderr, '');
  figures.verify = 'clean';
  // As shipped: any loosening of the hardening shows here. The reconcile unit reads nova-compute's
  // config through /proc/PID/root (nova's user, perhaps in a container), which takes
  // CAP_SYS_PTRACE and ProtectProc=default: 0.5 more than the watcher, which needs neither.
  const ceiling = { 'nova-ipmeta-watch.service': 2.0, 'nova-ipmeta-reconcile.service': 2.5 };
  for (const [unit, most] of Object.entries(ceiling)) {
    const e = exposure(h, unit);
    figures[`exposure_${unit.replace(/^nova-ipmeta-|\.service$/g, '')}`] = e;
    assert.ok(e <= most, `${unit}: systemd-analyze security exposure ${e} > ${most}`);
  }
});

t("an upgrade keeps the operator's edits to the conffile and restarts the watcher", () => {
  const h = sys();
  const edited = `${h.ok(['cat', CONF])}\n# edited by the operator\n`;
  h.write(CONF, edited);
  const watcher = unitProperty(h, 'nova-ipmeta-watch.service', 'MainPID');
  const hookTime = h.ok(['stat', '-c', '%Y', '/etc/libvirt/hooks/qemu.d/nova-ipmeta']);
  const r = h.exec(['dpkg', '-i', `/srv/debs/${debs.upgrade}`]);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout, 'to finish, run once', 'libvirtd has seen the hook: nothing to restart');
  assert.is(h.ok(['dpkg-query', '-W', '-f', '${Version}', 'nova-ipmeta']), UPGRADE_VERSION);
  assert.is(h.ok(['cat', CONF]), edited);
  assert.is(h.exec(['sh', '-c', 'ls /etc/nova-ipmeta/*.dpkg-* 2>/dev/null']).stdout, '');
  assert.is(h.systemctl('is-active', 'nova-ipmeta-watch.service'), 'active');
  assert.is.not(unitProperty(h, 'nova-ipmeta-watch.service', 'MainPID'), watcher, 'the upgrade restarts the watcher');
  assert.is(h.ok(['stat', '-c', '%Y', '/etc/libvirt/hooks/qemu.d/nova-ipmeta']), hookTime, 'an update keeps the time the hook appeared');
  assert.match(doctor(h).out, /^ok {4}hook seen/m);
});

t('dpkg -r leaves no unit, no hook, no failed unit; dpkg -P no config and no state either', () => {
  const h = sys();
  const noneOfOurs = (what: string) => {
    assert.is(h.ok(['systemctl', 'list-units', '--all', '--plain', '--no-legend', 'nova-ipmeta*']), '', `${what}: a unit is still loaded`);
    assert.match(h.exec(['systemctl', 'list-unit-files', '--no-pager', 'nova-ipmeta*']).stdout, '0 unit files listed.', `${what}: a unit file is left`);
    assert.is(h.ok(['systemctl', '--failed', '--plain', '--no-legend']), '', `${what}: a failed unit`);
    assert.is(h.ok(['find', '/etc/systemd', '/lib/systemd', '/etc/libvirt/hooks', '-name', '*nova-ipmeta*']), '', `${what}: files left`);
    assert.equal(watcherPids(h), [], `${what}: the watcher still runs`);
  };
  const removed = h.exec(['dpkg', '-r', 'nova-ipmeta']);
  assert.is(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, 'hook: removed /etc/libvirt/hooks/qemu.d/nova-ipmeta');
  noneOfOurs('dpkg -r');
  assert.is(h.exec(['test', '-f', CONF]).code, 0, 'remove keeps the config');
  const purged = h.exec(['dpkg', '-P', 'nova-ipmeta']);
  assert.is(purged.code, 0, purged.stderr);
  noneOfOurs('dpkg -P');
  assert.is(h.ok(['sh', '-c', 'ls -d /etc/nova-ipmeta /var/lib/nova-ipmeta /etc/cron.d/nova-ipmeta /usr/lib/nova-ipmeta /usr/sbin/nova-ipmeta 2>/dev/null; true']), '');
  assert.is(h.ok(['find', '/var/lib/systemd', '-name', '*nova-ipmeta*']), '', 'systemd state of ours left after purge');
  for (const g of [running, later, afterRestart]) assert.is(h.ok(['virsh', 'domstate', g.name]).trim(), 'running');
});

t.run();
