/**
 * A file's identity, in one word: device, inode, size, and modification and change times to the
 * nanosecond. Equal words mean the very same file, unchanged: the files this tool watches are
 * replaced by rename (a new inode), and any write in place moves the change time, which no one
 * can set back. Undefined when there is no such file (lstat: a link is not followed); throws
 * the system's error when it cannot be looked at.
 */
import { lstatSync, type BigIntStats } from 'node:fs';
import { errnoCode } from './os-error';

export function fileIdentity(path: string): { readonly word: string; readonly stats: BigIntStats } | undefined {
  let s: BigIntStats;
  try {
    s = lstatSync(path, { bigint: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  return { word: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`, stats: s };
}
