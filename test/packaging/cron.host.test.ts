/**
 * The cron path for real: a Debian 12 host where systemd does not run (PID 1 is a bare reaper, as
 * under another init), libvirt started by its sysv scripts (libvirt-daemon-system-sysv), Debian's
 * cron daemon, and the .deb. cron runs /etc/cron.d/nova-ipmeta by its own schedule; to get there
 * without waiting minutes, cron's clock (and only cron's: libfaketime preloaded into the daemon,
 * not into the jobs it starts) starts ten seconds before a five-minute mark and runs ten times
 * faster, so each of cron's minutes takes six seconds.
 */
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CRON_HOST, HostSystem, hostUnsupported } from '../support/host/host-system';
import { awaitPorts, buildDebs, cachePut, defineGuest, doctor, prove, redefine, shutdown, waitForLibvirt, watcherPids, type HostGuest } from '../support/host/scenario';

const TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
/** A line of the test's own, run by the same cron: each of cron's minutes appends one line. */
const TICK = '* * * * *\troot\tdate +\\%s >>/run/cron-ticks\n'; // % means newline in a crontab

const t = suite('the cron path: no systemd, Debian cron, libvirt by its sysv scripts');
let h: HostSystem | undefined;
let debs: { dir: string; deb: string };
let running: HostGuest;
let later: HostGuest;
const figures: Record<string, string | number> = {};

function sys(): HostSystem {
  if (!h) throw new Error('no system booted');
  return h;
}

function ticks(h: HostSystem): number {
  return h.exec(['cat', '/run/cron-ticks']).stdout.split('\n').filter((l) => l !== '').length;
}

t.before(async () => {
  const reason = hostUnsupported();
  if (reason) throw new Error(reason);
  debs = buildDebs();
  const layer = HostSystem.packages();
  h = HostSystem.boot('nova-ipmeta-cron', { init: 'none', packages: layer, roBinds: [[debs.dir, '/srv/debs']] });
  h.install(...CRON_HOST);
  assert.is(h.exec(['test', '-d', '/run/systemd/system']).code, 1, 'systemd must not run here');
  // What an init system without systemd does at boot: libvirt's own sysv scripts.
  h.ok(['service', 'virtlogd', 'start']);
  h.ok(['service', 'libvirtd', 'start']);
  await waitForLibvirt(h);
  running = defineGuest(h, 'running');
  later = defineGuest(h, 'later');
  h.ok(['virsh', '-q', 'start', running.name]);
});

t.after(() => {
  prove('cron', figures);
  shutdown(h);
  h = undefined;
  // The packages, once no system has them bound any more (unset when the build itself failed).
  const built = debs as typeof debs | undefined;
  if (built) rmSync(built.dir, { recursive: true, force: true });
});

t('dpkg -i without systemd: cron takes the services, the postinst names the restart', () => {
  const h = sys();
  const r = h.exec(['dpkg', '-i', `/srv/debs/${debs.deb}`]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'services: systemd does not run here: /etc/cron.d/nova-ipmeta runs the periodic reconcile and keeps the watcher up');
  assert.match(r.stdout, 'hook: to finish, run once:  service libvirtd restart\n');
  assert.is(h.ok(['stat', '-c', '%a %U', '/etc/cron.d/nova-ipmeta']).trim(), '644 root');
  for (const g of [running, later]) cachePut(h, g);
  h.ok(['mkdir', '-p', TEXTFILE_DIR]);
});

t("cron's own schedule: the watcher started, the periodic reconcile run, a killed watcher started again", async () => {
  const h = sys();
  h.write('/etc/cron.d/zz-nova-ipmeta-test-tick', TICK);
  // Ten of cron's seconds before its next five-minute mark, ten times as fast.
  const now = new Date(Date.now() + 60_000);
  now.setUTCMinutes(Math.ceil(now.getUTCMinutes() / 5) * 5, 0, 0);
  const fake = new Date(now.getTime() - 10_000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
  // cron's own init script (`service` would clear the environment, and with it the preload).
  h.ok(['env', `LD_PRELOAD=${FAKETIME_LIB}`, `FAKETIME=@${fake} x10`, 'TZ=UTC', '/etc/init.d/cron', 'start']);
  figures.cron_fake_start = `"${fake}"`;
  const first = await h.until('cron to start the watcher', () => watcherPids(h)[0]);
  const metrics = await h.until('the periodic reconcile (every minute) to write nova-ipmeta.prom', () => {
    const r = h.exec(['cat', `${TEXTFILE_DIR}/nova-ipmeta.prom`]);
    return r.code === 0 && r.stdout.includes('nova_ipmeta_reconcile_last_success_timestamp_seconds') ? r.stdout : undefined;
  });
  assert.match(metrics, /nova_ipmeta_reconcile_domains\{outcome="error"\} 0/);
  await awaitPorts(h, running, 'the cron-started watcher or reconcile');
  h.ok(['sh', '-c', 'kill "$1"', 'sh', String(first)]);
  const second = await h.until('cron to start the watcher again', () => watcherPids(h).find((p) => p !== first));
  assert.is.not(second, first);
  // One more of cron's minutes: flock keeps it to one watcher.
  const n = ticks(h);
  await h.until("another of cron's minutes", () => (ticks(h) > n ? true : undefined));
  assert.equal(watcherPids(h), [second]);
  figures.cron_minutes_seen = ticks(h);
});

t('the watcher that cron keeps writes the ports of a guest started before any libvirtd restart', async () => {
  const h = sys();
  redefine(h, later);
  h.ok(['virsh', '-q', 'start', later.name]);
  await awaitPorts(h, later, 'the cron-started watcher');
});

t('after service libvirtd restart, doctor: all ok but the credentials (no Neutron here), cron and its watcher seen', () => {
  const h = sys();
  h.ok(['service', 'libvirtd', 'restart']);
  const d = doctor(h);
  assert.match(d.out, /^ok {4}hook seen: libvirtd/m, d.out);
  assert.match(d.out, /^ok {4}cron: systemd does not run/m, d.out);
  assert.match(d.out, /^ok {4}watcher: nova-ipmeta watch runs/m, d.out);
  // No Neutron and no nova.conf on this host: the credentials line warns, and only it.
  assert.match(d.out, /^warn {2}credentials: no Neutron credentials found/m, d.out);
  assert.equal(d.out.split('\n').filter((l) => /^(warn|FAIL)/.test(l) && !l.startsWith('warn  credentials: ')), [], d.out);
  assert.is(d.code, 0, d.out);
});

t('dpkg -i again (an upgrade) without systemd: the watcher running the old code is stopped, and cron starts the new code', async () => {
  const h = sys();
  const [before] = watcherPids(h);
  assert.ok(before, 'a watcher runs');
  const r = h.exec(['dpkg', '-i', `/srv/debs/${debs.deb}`]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `services: stopped the watcher (pid ${before}): cron starts it again, with this code, within a minute`);
  const after = await h.until('cron to start the watcher again', () => watcherPids(h).find((p) => p !== before));
  assert.is.not(after, before);
  // Up, past reading its config (the next test breaks the config file, which a watcher still
  // starting would read and exit on): still the one watcher three seconds later.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal(watcherPids(h), [after]);
});

t('dpkg -r stops the watcher cron started, and cron starts none, though the config file cannot be read; dpkg -P removes the cron file', async () => {
  const h = sys();
  // A config file the program refuses must not make the package impossible to remove.
  h.write('/etc/nova-ipmeta/nova-ipmeta.conf', '[libvirt]\nclient = Virsh\n');
  const r = h.exec(['dpkg', '-r', 'nova-ipmeta']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'config: /etc/nova-ipmeta/nova-ipmeta.conf: [libvirt] client: expected auto or virsh; using the default state directory /var/lib/nova-ipmeta\n');
  assert.match(r.stdout, /services: stopped the watcher \(pid \d+\)/);
  await h.until('the watcher to exit', () => (watcherPids(h).length === 0 ? true : undefined), 30_000);
  const n = ticks(h);
  await h.until("another of cron's minutes", () => (ticks(h) > n ? true : undefined));
  assert.equal(watcherPids(h), [], 'cron started a watcher of a removed package');
  const p = h.exec(['dpkg', '-P', 'nova-ipmeta']);
  assert.is(p.code, 0, p.stderr);
  assert.is(h.ok(['sh', '-c', 'ls -d /etc/cron.d/nova-ipmeta /etc/nova-ipmeta /var/lib/nova-ipmeta /etc/libvirt/hooks/qemu.d/nova-ipmeta 2>/dev/null; true']), '');
});

t.run();
