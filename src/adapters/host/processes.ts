/**
 * The processes of this system, from /proc: those in the same mount namespace as this one, so
 * that a container's (or a private test daemon's) are not taken for the host's, with their start
 * times; and, apart, those in other mount namespaces (a libvirtd in kolla-ansible's nova_libvirt
 * container), with the container they run in when their cgroup names one. `procDir` is a
 * parameter so that a test can point it at a made-up /proc.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface HostProcess {
  readonly pid: number;
  /** The kernel's short name (`/proc/PID/comm`). */
  readonly comm: string;
  readonly argv: readonly string[];
  readonly startedAt: Date;
}

/**
 * The short names a process running the bundle has: Node's, or the installed command's. That is a
 * link to the bundle whose first line names Node (install.sh), and a process the kernel starts
 * through such a line is named after the file it was given.
 */
export const BUNDLE_COMMS: ReadonlySet<string> = new Set(['node', 'nodejs', 'nova-ipmeta']);

/** Whether a process runs `nova-ipmeta watch`: the bundle or the installed command, with `watch` among its words. */
export function isWatcher(p: HostProcess): boolean {
  return BUNDLE_COMMS.has(p.comm) && p.argv.includes('watch') && p.argv.some((a) => /(^|\/)nova-ipmeta(\.cjs)?$/.test(a));
}

/**
 * Clock ticks per second in /proc/PID/stat: USER_HZ, which is part of the kernel's ABI and 100 on
 * every architecture Linux distributions ship (Node cannot ask sysconf).
 */
const USER_HZ = 100;

/** A process that sees other files than this one: a container's, or another private namespace's. */
export interface ContainedProcess extends HostProcess {
  /** `docker container 0123456789ab`, `podman container ...`, `lxc container NAME`...; undefined when the cgroup names none. */
  readonly container: string | undefined;
}

/** Where a contained process runs, in words: `docker container 0123456789ab`, or `another mount namespace`. */
export function whereRuns(p: ContainedProcess): string {
  return p.container ?? 'another mount namespace';
}

/** Every process of this system whose comm satisfies `wanted`. */
export function processesOf(wanted: (comm: string) => boolean, procDir = '/proc'): HostProcess[] {
  return scan(wanted, procDir, 'same').map(({ pid, comm, argv, startedAt }) => ({ pid, comm, argv, startedAt }));
}

/** The processes whose comm satisfies `wanted` that live in another mount namespace than this one. */
export function processesElsewhere(wanted: (comm: string) => boolean, procDir = '/proc'): ContainedProcess[] {
  return scan(wanted, procDir, 'other');
}

/** Every process whose comm satisfies `wanted`, containers' too (nova-compute in kolla's container, whose files are read through /proc/PID/root). */
export function processesAnywhere(wanted: (comm: string) => boolean, procDir = '/proc'): ContainedProcess[] {
  return scan(wanted, procDir, 'all');
}

function scan(wanted: (comm: string) => boolean, procDir: string, which: 'same' | 'other' | 'all'): ContainedProcess[] {
  const ownNs = readLink(join(procDir, 'self', 'ns', 'mnt'));
  // Without our own namespace to compare with, every process counts as this system's.
  if (ownNs === undefined && which === 'other') return [];
  const now = Date.now();
  const uptimeMs = readUptimeMs(procDir);
  const found: ContainedProcess[] = [];
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    const dir = join(procDir, entry);
    const comm = readText(join(dir, 'comm'))?.trim();
    if (comm === undefined || !wanted(comm)) continue;
    const stat = statOf(readText(join(dir, 'stat')));
    // A zombie runs nothing (a daemon that died unreaped) and shows no namespace to compare.
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X' || uptimeMs === undefined) continue;
    const same = ownNs === undefined || readLink(join(dir, 'ns', 'mnt')) === ownNs;
    if (which !== 'all' && same !== (which === 'same')) continue;
    const argv = (readText(join(dir, 'cmdline')) ?? '').split('\0').filter((a) => a !== '');
    // Start times count from boot; /proc/uptime, read at about the same moment as the clock,
    // turns them into wall-clock time to the tick.
    const startedAt = new Date(now - (uptimeMs - (stat.startTicks * 1000) / USER_HZ));
    const container = same ? undefined : containerOf(readText(join(dir, 'cgroup')) ?? '');
    found.push({ pid: Number(entry), comm, argv, startedAt, container });
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/**
 * The container a process runs in, from the paths of /proc/PID/cgroup (cgroup v1 or v2, systemd
 * or cgroupfs driver): `docker-ID.scope` or `/docker/ID`, `libpod-ID.scope` (podman),
 * `cri-containerd-ID.scope`, `crio-ID.scope`, `/lxc/NAME` or `lxc.payload.NAME`. IDs are shortened
 * to 12 characters, as `docker ps` shows them.
 */
export function containerOf(cgroup: string): string | undefined {
  const paths = cgroup.split('\n').map((l) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1));
  const patterns: [RegExp, string][] = [
    [/(?:^|\/)docker[-/]([0-9a-f]{12,64})(?:\.scope)?(?:\/|$)/, 'docker'],
    [/(?:^|\/)libpod-(?!conmon-)([0-9a-f]{12,64})(?:\.scope)?(?:\/|$)/, 'podman'],
    [/(?:^|\/)cri-containerd-([0-9a-f]{12,64})(?:\.scope)?(?:\/|$)/, 'containerd'],
    [/(?:^|\/)crio-([0-9a-f]{12,64})(?:\.scope)?(?:\/|$)/, 'cri-o'],
  ];
  for (const path of paths) {
    for (const [re, runtime] of patterns) {
      const id = re.exec(path)?.[1];
      if (id) return `${runtime} container ${id.slice(0, 12)}`;
    }
    const lxc = /(?:^|\/)(?:lxc\/|lxc\.payload\.)([^/]+)/.exec(path)?.[1];
    if (lxc) return `lxc container ${lxc}`;
  }
  return undefined;
}

/**
 * Fields 3 and 22 of /proc/PID/stat: the process's state (`R`, `S`, `Z`...) and its start, in
 * ticks since boot. They are counted after the last `)`, since comm may hold anything.
 */
function statOf(stat: string | undefined): { state: string; startTicks: number } | undefined {
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[19]);
  return Number.isFinite(startTicks) && fields[0] !== undefined ? { state: fields[0], startTicks } : undefined;
}

function readUptimeMs(procDir: string): number | undefined {
  const seconds = Number(readText(join(procDir, 'uptime'))?.split(' ')[0]);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process ended meanwhile, or is not ours to read
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

