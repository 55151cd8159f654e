/**
 * A file's identity, in one word: device, inode, size, and modification and change times to the
 * nanosecond. Equal words mean the very same file, unchanged: the files this tool watches are
 * replaced by rename (a new inode), and any write in place moves the change time, which no one
 * can set back. Undefined when there is no such file (lstat: a link is not followed); throws
 * the system's error when it cannot be looked at.
 */
import { lstatSync, statSync, type BigIntStats } from 'node:fs';
import { errnoCode } from './os-error';

/**
 * How long a file must have stood unchanged before what was read from it is remembered under its
 * identity (the in-sync memo, find's index): a change within one tick of the kernel's clock keeps
 * the same time stamp, and a later one then moves it by more than this.
 */
export const SETTLED_MS = 2000;

export function fileIdentity(path: string): { readonly word: string; readonly stats: BigIntStats } | undefined {
  return identityOf(path, lstatSync);
}

/**
 * The same in a cheaper word, from Node's plain stat: times in milliseconds, a fraction of a
 * microsecond apart at today's dates. For a file recorded under it only once it has stood still
 * for seconds, that loses nothing: any later change moves its change time by as much. What find's
 * index takes for each of a thousand files, where the BigInt stat costs twice as much. Undefined
 * when there is no such file, or it is not a regular file; throws when it cannot be looked at.
 */
export function regularFileWord(path: string): { readonly word: string; readonly mtimeMs: number; readonly ctimeMs: number } | undefined {
  const s = lstatSync(path, { throwIfNoEntry: false });
  if (!s?.isFile()) return undefined;
  return { word: `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs };
}

/**
 * The same for a directory, through a symbolic link (an operator may have moved it): its times
 * move whenever a name in it is added, removed or renamed, which is how libvirt replaces its
 * files; not when a file in it is written in place.
 */
export function directoryIdentity(path: string): { readonly word: string; readonly stats: BigIntStats } | undefined {
  const id = identityOf(path, statSync);
  return id?.stats.isDirectory() ? id : undefined;
}

function identityOf(path: string, stat: typeof statSync): { readonly word: string; readonly stats: BigIntStats } | undefined {
  let s: BigIntStats;
  try {
    s = stat(path, { bigint: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  return { word: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`, stats: s };
}
