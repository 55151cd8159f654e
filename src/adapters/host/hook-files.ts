/**
 * The hook as installed (install.sh, or the package through nova-ipmeta-setup): a copy of
 * hooks/qemu with the marker line below, at hooks/qemu.d/nova-ipmeta (libvirt >= 6.5) or
 * hooks/qemu. A file without the marker is someone else's, whatever its name.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** The line the installer adds after the shebang (packaging/lib/nova-ipmeta-setup, install.sh). */
export const HOOK_MARKER = '# managed-by: nova-ipmeta';

/** libvirt runs the scripts in hooks/qemu.d/ since this version. */
export const QEMU_D_SINCE = [6, 5, 0] as const;

export type HookPlace = 'qemu.d' | 'qemu';

export interface HookFile {
  readonly path: string;
  readonly place: HookPlace;
  readonly stats: Stats;
  /** A regular file carrying the marker. */
  readonly ours: boolean;
  readonly executable: boolean;
  /** The command the hook runs (its NOVA_IPMETA= line), when it has one. */
  readonly command: string | undefined;
}

const READ_LIMIT = 64 * 1024;

/** Our script's name in hooks/qemu.d/. */
export const HOOK_NAME = 'nova-ipmeta';

export function hookPaths(hooksDir: string): { readonly place: HookPlace; readonly path: string }[] {
  return [
    { place: 'qemu.d', path: join(hooksDir, 'qemu.d', HOOK_NAME) },
    { place: 'qemu', path: join(hooksDir, 'qemu') },
  ];
}

/** The files present at either place, ours or not. */
export function findHookFiles(hooksDir: string): HookFile[] {
  const found: HookFile[] = [];
  for (const { place, path } of hookPaths(hooksDir)) {
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch {
      continue; // absent (or unreadable: then it is not ours to judge)
    }
    const text = stats.isFile() ? readHead(path) : '';
    const lines = text.split('\n');
    const command = lines.find((l) => l.startsWith('NOVA_IPMETA='))?.slice('NOVA_IPMETA='.length);
    found.push({
      path,
      place,
      stats,
      ours: stats.isFile() && lines.includes(HOOK_MARKER),
      executable: stats.isFile() && (stats.mode & 0o111) !== 0,
      command: command === undefined || command === '' ? undefined : command,
    });
  }
  return found;
}

/** Whether a `major.minor[.micro]` version runs hooks/qemu.d/. */
export function runsQemuD(version: string): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < QEMU_D_SINCE.length; i++) {
    const have = parts[i] ?? 0;
    const need = QEMU_D_SINCE[i] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}

function readHead(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return '';
  }
  try {
    if (!fstatSync(fd).isFile()) return '';
    const buffer = Buffer.alloc(READ_LIMIT);
    const n = readSync(fd, buffer, 0, READ_LIMIT, 0);
    return buffer.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
