/**
 * What the host scenarios share: the .deb (built from this checkout, and a newer one for the
 * upgrade), a libvirt host (libvirt-daemon-system's own packages, installed offline inside a
 * booted HostSystem), nova guests there, and what to ask of them.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestXml } from '../libvirt';
import { makeVif, networkInfo, novaInstance, NS_1_1, type TestVif } from '../nova-guest';
import { HostSystem, REPO } from './host-system';

export const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
export const UPGRADE_VERSION = `${VERSION}+hosttest1`;

function must(argv: readonly string[], env: Record<string, string> = {}): string {
  const r = spawnSync(argv[0] ?? 'false', argv.slice(1), { encoding: 'utf8', cwd: REPO, env: { ...process.env, ...env }, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}${r.error ? String(r.error) : ''}`);
  return r.stdout;
}

/** The bundle, built by the build group; built here when this group runs alone. */
export function ensureBundle(): void {
  if (!existsSync(join(REPO, 'dist/nova-ipmeta.cjs'))) must([process.execPath, join(REPO, 'scripts/build.mjs')]);
}

/**
 * A directory with this checkout's .deb (nova-ipmeta_VERSION_all.deb) and the same package as a
 * newer version (nova-ipmeta_UPGRADE_all.deb), for the upgrade.
 */
export function buildDebs(): { dir: string; deb: string; upgrade: string } {
  ensureBundle();
  const built = join(REPO, must([process.execPath, join(REPO, 'scripts/package.mjs')]).trim());
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-host-debs-'));
  const deb = `nova-ipmeta_${VERSION}_all.deb`;
  const upgrade = `nova-ipmeta_${UPGRADE_VERSION}_all.deb`;
  must(['cp', built, join(dir, deb)]);
  const tree = join(dir, 'tree');
  must(['dpkg-deb', '-R', join(dir, deb), tree]);
  must(['sed', '-i', `s/^Version: .*/Version: ${UPGRADE_VERSION}/`, join(tree, 'DEBIAN/control')]);
  must(['dpkg-deb', '--root-owner-group', '-Zxz', '--build', tree, join(dir, upgrade)]);
  must(['rm', '-rf', tree]);
  must(['chmod', '0755', dir]);
  return { dir, deb, upgrade };
}

/** virsh's answer, once the daemon answers at all. */
export async function waitForLibvirt(h: HostSystem): Promise<void> {
  await h.until('libvirt answers virsh', () => (h.exec(['virsh', '-q', 'version', '--daemon']).code === 0 ? true : undefined), 60_000);
}

export interface HostGuest {
  name: string;
  uuid: string;
  vifs: TestVif[];
}

/**
 * Defines a nova guest (as nova >= 23 left it: fixed IPs of its first port only) and puts its
 * network_info in place (two ports, one floating IP) for `nova-ipmeta cache put`.
 */
export function defineGuest(h: HostSystem, label: string): HostGuest {
  const uuid = randomUUID();
  const name = `instance-${label}`;
  const vifs = [makeVif({ floating: [`203.0.113.${10 + label.length}`] }), makeVif()];
  h.write(
    `/root/${name}.xml`,
    guestXml({ name, uuid, interfaces: vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata: novaInstance({ ns: NS_1_1, name: label, novaPorts: vifs.slice(0, 1) }) }),
  );
  h.write(`/root/${name}.network_info.json`, networkInfo(vifs));
  h.ok(['virsh', '-q', 'define', `/root/${name}.xml`]);
  return { name, uuid, vifs };
}

/**
 * Defines the guest again from nova's XML (without the ports nova-ipmeta wrote), as nova does
 * before it starts a guest: what then writes the ports at start is what the test is about.
 */
export function redefine(h: HostSystem, g: HostGuest): void {
  h.ok(['virsh', '-q', 'define', `/root/${g.name}.xml`]);
}

export function cachePut(h: HostSystem, g: HostGuest): void {
  h.ok(['nova-ipmeta', 'cache', 'put', g.uuid, `/root/${g.name}.network_info.json`]);
}

/** Whether the guest's live definition holds every port and address of its network_info. */
export function portsWritten(h: HostSystem, g: HostGuest): boolean {
  const r = h.exec(['virsh', 'metadata', g.name, NS_1_1]);
  if (r.code !== 0) return false;
  return g.vifs.every((v) => r.stdout.includes(`<port uuid="${v.id}">`) && [...v.fixed, ...v.floating].every((a) => r.stdout.includes(`address="${a}"`)));
}

export async function awaitPorts(h: HostSystem, g: HostGuest, why: string): Promise<void> {
  await h.until(`${g.name}'s ports (${why})`, () => (portsWritten(h, g) ? true : undefined), 60_000);
}

/** The PIDs of running `nova-ipmeta watch` processes (node .../nova-ipmeta.cjs watch ..., or node /usr/sbin/nova-ipmeta watch ... through its link). */
export function watcherPids(h: HostSystem): number[] {
  const r = h.sh('for f in /proc/[0-9]*/cmdline; do p=${f%/cmdline}; printf "%s\\002" "${p#/proc/}"; tr "\\000" "\\001" <"$f" 2>/dev/null; echo; done; true');
  return r.stdout
    .split('\n')
    .map((l) => l.split('\x02'))
    .filter(([, cmdline]) => {
      const argv = (cmdline ?? '').split('\x01');
      return /\/nova-ipmeta(\.cjs)?$/.test(argv[1] ?? '') && argv[2] === 'watch';
    })
    .map(([pid]) => Number(pid))
    .sort((a, b) => a - b);
}

/** systemctl show -p PROPERTY --value. */
export function unitProperty(h: HostSystem, unit: string, property: string): string {
  return h.ok(['systemctl', 'show', '-p', property, '--value', unit]).trim();
}

/** Stops every running guest (a guest without an OS never answers libvirt-guests' shutdown), then powers off. */
export function shutdown(h: HostSystem | undefined): void {
  if (!h) return;
  h.sh('command -v virsh >/dev/null || exit 0; for d in $(virsh list --name 2>/dev/null); do virsh -q destroy "$d" >/dev/null 2>&1; done; true');
  h.down();
}

/** The doctor's lines and exit status. */
export function doctor(h: HostSystem): { code: number; out: string } {
  const r = h.exec(['nova-ipmeta', 'doctor']);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** `systemd-analyze security` exposure of a service (e.g. 2.0), for the PROVE lines. */
export function exposure(h: HostSystem, unit: string): number {
  const out = h.exec(['systemd-analyze', 'security', '--no-pager', unit]).stdout;
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(out);
  if (!m) throw new Error(`systemd-analyze security ${unit}: no exposure level in: ${out.slice(-500)}`);
  return Number(m[1]);
}

/** The PROVE line of a scenario, printed for the test output. */
export function prove(scenario: string, fields: Record<string, string | number>): void {
  console.log(`PROVE host ${scenario} ${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(' ')}`);
}
