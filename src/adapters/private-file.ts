/**
 * Small files of ours in the state directory that only make things cheaper (the Keystone token,
 * the incremental sync's state): read under the state directory's trust rules (state-file.ts: a
 * trusted directory; the file not a symbolic link, a regular file, owned by root or us, writable
 * by no one else), and written atomically, 0600. Losing one costs work, never correctness, so
 * reading one that is missing, unreadable, untrusted or not UTF-8 gives undefined, and writing is
 * best effort: a read-only or full disk must not fail the run that merely could not save it.
 */
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';
import { readStateBytes } from './state-file';
import { ensurePrivateDir } from './state-dir';

export function readPrivateFile(dir: string, name: string, maxBytes: number): string | undefined {
  try {
    const bytes = readStateBytes(dir, name, maxBytes);
    return bytes === undefined ? undefined : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
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
