/**
 * The processes of this system, from /proc: those in the same mount namespace as this one, so
 * that a container's (or a private test daemon's) are not taken for the host's, with their start
 * times. `procDir` is a parameter so that a test can point it at a made-up /proc.
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
 * Clock ticks per second in /proc/PID/stat: USER_HZ, which is part of the kernel's ABI and 100 on
 * every architecture Linux distributions ship (Node cannot ask sysconf).
 */
const USER_HZ = 100;

/**
 * Every process of this system whose comm satisfies `wanted`; with `allMountNamespaces`, those of
 * containers too (nova-compute in kolla's container, whose files are read through /proc/PID/root).
 */
export function processesOf(wanted: (comm: string) => boolean, procDir = '/proc', options: { readonly allMountNamespaces?: boolean } = {}): HostProcess[] {
  const ownNs = options.allMountNamespaces ? undefined : readLink(join(procDir, 'self', 'ns', 'mnt'));
  const now = Date.now();
  const uptimeMs = readUptimeMs(procDir);
  const found: HostProcess[] = [];
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    const dir = join(procDir, entry);
    const comm = readText(join(dir, 'comm'))?.trim();
    if (comm === undefined || !wanted(comm)) continue;
    if (ownNs !== undefined && readLink(join(dir, 'ns', 'mnt')) !== ownNs) continue;
    const startTicks = startTimeTicks(readText(join(dir, 'stat')));
    if (startTicks === undefined || uptimeMs === undefined) continue;
    const argv = (readText(join(dir, 'cmdline')) ?? '').split('\0').filter((a) => a !== '');
    // Start times count from boot; /proc/uptime, read at about the same moment as the clock,
    // turns them into wall-clock time to the tick.
    const startedAt = new Date(now - (uptimeMs - (startTicks * 1000) / USER_HZ));
    found.push({ pid: Number(entry), comm, argv, startedAt });
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** Field 22 of /proc/PID/stat (the process's start, in ticks since boot); comm may hold anything. */
function startTimeTicks(stat: string | undefined): number | undefined {
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const value = Number(fields[19]);
  return Number.isFinite(value) ? value : undefined;
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

