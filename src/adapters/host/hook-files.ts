/**
 * The hook as installed: a copy of hooks/qemu with the marker line below, at
 * hooks/qemu.d/nova-ipmeta (libvirt >= 6.5 runs every script there, in name order, after
 * hooks/qemu) or, for older libvirt, hooks/qemu when that is free or already ours. A file without
 * the marker is someone else's, whatever its name: never overwritten, never removed. The one
 * place these rules live: `nova-ipmeta setup` (install.sh, the package's maintainer scripts) and
 * `doctor` both use this module.
 */
import { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { quote } from '../../errors';
import { writeFileAtomic } from '../atomic-file';
import { errnoCode } from '../os-error';
import type { HostProcess } from './processes';

/** The line the installer adds after the shebang (install.sh writes it into the hook's source). */
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

/** The hooks directory a path of hookPaths lies in; undefined for any other path. */
export function hooksDirOf(path: string): string | undefined {
  const dir = dirname(path);
  for (const hooksDir of [dir, dirname(dir)]) if (hookPaths(hooksDir).some((p) => p.path === path)) return hooksDir;
  return undefined;
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

export type HookTarget =
  | { readonly kind: 'free' | 'ours'; readonly path: string; readonly place: HookPlace }
  /** Someone else's file is where ours would go: nothing may be installed. */
  | { readonly kind: 'foreign'; readonly path: string; readonly place: HookPlace; readonly problem: string };

/** Where our hook goes for this libvirt version (none known: the newer rule); `ourScript` is what it runs. */
export function hookTarget(hooksDir: string, libvirtVersion: string | undefined, ourScript: string): HookTarget {
  const place: HookPlace = libvirtVersion === undefined || runsQemuD(libvirtVersion) ? 'qemu.d' : 'qemu';
  const path = hookPaths(hooksDir).find((h) => h.place === place)?.path ?? join(hooksDir, 'qemu');
  if (place === 'qemu.d') {
    const dir = dirname(path);
    if (entryType(dir) === 'other') return { kind: 'foreign', path, place, problem: `${dir} is not a directory: left as it is, nothing installed` };
  }
  const file = findHookFiles(hooksDir).find((f) => f.path === path);
  if (!file) return { kind: 'free', path, place };
  if (file.ours) return { kind: 'ours', path, place };
  const first = firstLine(path);
  const advice =
    place === 'qemu'
      ? `libvirt ${libvirtVersion ?? ''} runs only ${path} (qemu.d needs ${QEMU_D_SINCE.join('.')}): make that hook run ${ourScript} with the same arguments and stdin, then install with --no-hook (install.sh --help: FOREIGN HOOK)`
      : `rename or remove ${path}, then install again`;
  return { kind: 'foreign', path, place, problem: `${path} is not nova-ipmeta's hook (no "${HOOK_MARKER}" line; it starts ${JSON.stringify(first)}): left as it is, nothing installed; ${advice}` };
}

export interface PlaceResult {
  readonly outcome: 'installed' | 'updated' | 'unchanged';
  /** Directories created on the way, outermost first (for the install manifest). */
  readonly createdDirs: readonly string[];
  /** Our copies at the other place, removed so that the hook never runs twice. */
  readonly removedOthers: readonly string[];
  /** The operator's settings carried over from the copy replaced, as `NAME=VALUE`. */
  readonly kept: readonly string[];
  /** One line for each setting of the copy replaced that could not be kept (the default went in instead). */
  readonly notes: readonly string[];
}

/**
 * The lines of the installed hook that nova-ipmeta(8) tells operators to edit, with what each may
 * hold: placing the hook over a copy of ours keeps their values, or an upgrade would quietly put
 * the defaults back. Not NOVA_IPMETA= nor NOVA_IPMETA_CONFIG=: the installer writes those from its
 * prefix and config path (install.sh's hook_text), so the new text's are the installation's.
 * Each value is checked, since it lands in a shell script libvirt runs at every guest start: a
 * bad one would break the hook where the default works.
 */
const TUNABLE_LINES: readonly { readonly name: string; readonly valid: RegExp; readonly expected: string }[] = [
  { name: 'NOVA_IPMETA_FILTER_TIMEOUT', valid: /^[1-9][0-9]{0,8}$/, expected: 'a whole number of seconds from 1 to 999999999' },
  { name: 'NOVA_IPMETA_SYSLOG', valid: /^(auto|no)$/, expected: 'auto or no' },
  // Written unquoted: one word to the shell, nothing it would expand.
  { name: 'NOVA_IPMETA_LOG', valid: /^\/[A-Za-z0-9._+/-]*$/, expected: 'an absolute path of letters, digits and ._+-/' },
];

/** `text` (the hook to install) with the tunable lines of `previous` (the copy it replaces) where they are valid. */
function carryOver(text: string, previous: string): { text: string; kept: string[]; notes: string[] } {
  const lines = text.split('\n');
  const before = previous.split('\n');
  const kept: string[] = [];
  const notes: string[] = [];
  for (const { name, valid, expected } of TUNABLE_LINES) {
    const prefix = `${name}=`;
    const at = lines.flatMap((l, i) => (l.startsWith(prefix) ? [i] : []));
    // Where the new hook does not set it once, there is no one line for the value to go to.
    if (at.length !== 1 || at[0] === undefined) continue;
    // The shell takes the last assignment.
    const raw = before.filter((l) => l.startsWith(prefix)).pop()?.slice(prefix.length);
    if (raw === undefined) continue;
    const fallback = unquoted(lines[at[0]]?.slice(prefix.length) ?? '');
    const value = unquoted(raw);
    if (value === fallback) continue;
    if (valid.test(value)) {
      lines[at[0]] = `${prefix}${value}`;
      kept.push(`${prefix}${value}`);
    } else {
      notes.push(`${prefix}${quote(raw)} is not ${expected}: the default ${fallback} instead`);
    }
  }
  return { text: lines.join('\n'), kept, notes };
}

/** A shell word as an operator may have written it: one pair of matching quotes removed. */
function unquoted(raw: string): string {
  const v = raw.trim();
  return v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0] ? v.slice(1, -1) : v;
}

/**
 * Puts `source` at the target (free or ours): written beside in the hooks directory (never inside
 * qemu.d/, every executable of which libvirt runs) under a name nobody can plant in advance, then
 * renamed into place, so libvirt never runs a half-written hook. The operator's values of the
 * tunable lines of the copy it replaces (or of our copy at the other place, which it moves) are
 * kept. An update keeps the time the hook first appeared (its mtime): doctor compares it with the
 * daemon's start, since libvirt looks for hooks only when it starts and a hook it found then runs
 * in its new version.
 */
export function placeHook(hooksDir: string, source: string, target: Exclude<HookTarget, { kind: 'foreign' }>): PlaceResult {
  const shipped = readFileSync(source);
  const ours = findHookFiles(hooksDir).filter((f) => f.ours);
  const previous = ours.find((f) => f.path === target.path) ?? ours[0];
  const carried = previous ? carryOver(shipped.toString('utf8'), readHead(previous.path)) : undefined;
  const text = carried && carried.kept.length > 0 ? Buffer.from(carried.text, 'utf8') : shipped;
  const createdDirs = makeDirs(dirname(target.path));
  let outcome: PlaceResult['outcome'] = target.kind === 'ours' ? 'updated' : 'installed';
  if (target.kind === 'ours' && readFileSync(target.path).equals(text) && (statSync(target.path).mode & 0o777) === 0o755) {
    outcome = 'unchanged';
  } else {
    const appeared = target.kind === 'ours' ? statSync(target.path) : undefined;
    writeFileAtomic(target.path, text, { mode: 0o755, tempDir: hooksDir, ...(appeared ? { times: { atime: appeared.atime, mtime: appeared.mtime } } : {}) });
  }
  const removedOthers: string[] = [];
  for (const other of findHookFiles(hooksDir)) {
    if (other.path !== target.path && other.ours) {
      unlinkSync(other.path);
      removedOthers.push(other.path);
    }
  }
  return { outcome, createdDirs, removedOthers, kept: carried?.kept ?? [], notes: carried?.notes ?? [] };
}

/** Removes our hook from both places (never someone else's file); returns what was removed. */
export function removeHooks(hooksDir: string): string[] {
  const removed: string[] = [];
  for (const f of findHookFiles(hooksDir)) {
    if (!f.ours) continue;
    unlinkSync(f.path);
    removed.push(f.path);
  }
  return removed;
}

/** Removes a directory the installation created, when nothing else lives there; whether it is gone. */
export function removeEmptyDir(path: string): boolean {
  try {
    rmdirSync(path);
    return true;
  } catch (err) {
    return errnoCode(err) === 'ENOENT';
  }
}

/**
 * The daemons that do not run the hook yet: started before it appeared, unless hooks/qemu.d/
 * already held a script then (libvirt then reads that directory at every call). `qemuDHeldSince`:
 * the oldest change time of another entry of qemu.d (an entry's ctime is never older than its
 * creation). Start times are known to a tick: a hook this close to the start is given the benefit.
 */
export function daemonsBlindTo(hook: HookFile, daemons: readonly HostProcess[], qemuDHeldSince: Date | undefined): HostProcess[] {
  const appeared = hook.stats.mtime.getTime();
  return daemons.filter((d) => {
    const sawDirectory = hook.place === 'qemu.d' && qemuDHeldSince !== undefined && qemuDHeldSince.getTime() < d.startedAt.getTime();
    return d.startedAt.getTime() + 50 < appeared && !sawDirectory;
  });
}

/** The oldest change time of an entry of hooks/qemu.d/ other than ours. */
export function qemuDHeldSince(hooksDir: string): Date | undefined {
  const dir = join(hooksDir, 'qemu.d');
  let oldest: Date | undefined;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (name === HOOK_NAME) continue;
    try {
      const ctime = lstatSync(join(dir, name)).ctime;
      if (oldest === undefined || ctime < oldest) oldest = ctime;
    } catch {
      // gone meanwhile
    }
  }
  return oldest;
}

function entryType(path: string): 'missing' | 'directory' | 'other' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

/** Creates `dir` and the parents it lacks (0755); returns those it created, outermost first. */
function makeDirs(dir: string): string[] {
  if (entryType(dir) !== 'missing') return [];
  const created = makeDirs(dirname(dir));
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  return [...created, dir];
}

/** The first line of a file, printable and bounded, for a message. */
function firstLine(path: string): string {
  return readHead(path).split('\n', 1)[0]?.replace(/[^\x20-\x7e]/g, '').slice(0, 200) ?? '';
}
