/**
 * Small files of ours in the state directory that only make things cheaper (the Keystone token,
 * the incremental sync's state): read only when they can be trusted like the cache files (a
 * trusted directory; the file not a symbolic link, a regular file, owned by root or us, writable
 * by no one else), and written atomically, 0600. Losing one costs work, never correctness, so
 * reading one that is missing, unreadable or untrusted gives undefined, and writing is best
 * effort: a read-only or full disk must not fail the run that merely could not save it.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';
import { readRegularFile } from './file-read';
import { ensurePrivateDir, inspectPrivateDir, trustProblem } from './state-dir';

export function readPrivateFile(dir: string, name: string, maxBytes: number): string | undefined {
  const path = join(dir, name);
  try {
    if (inspectPrivateDir(dir) !== 'ok') return undefined;
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile() || trustProblem(stats, path, 'file') !== undefined) return undefined;
      return new TextDecoder('utf-8', { fatal: true }).decode(readRegularFile(fd, { maxBytes }));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** True when written. */
export function writePrivateFile(dir: string, name: string, text: string): boolean {
  try {
    ensurePrivateDir(dir);
    writeFileAtomic(join(dir, name), text, { mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}
