/**
 * Replacing a file so that every reader sees either the old content or the new, never a torn or
 * empty file, even across a crash or power loss: a temp file in the same directory (a rename
 * across file systems is not atomic), written and fsynced, renamed over the target, then the
 * directory fsynced so the rename itself is durable.
 *
 * It touches nothing but the temp file and the target: the directory may be someone else's
 * (node_exporter's textfile directory), so its mode and owner are left alone. The temp name
 * starts with a dot and ends in `.tmp`, so neither the cache listing nor the textfile collector
 * (which reads `*.prom`) ever picks one up.
 */
import { closeSync, constants, fchmodSync, fsyncSync, futimesSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SystemError } from '../errors';
import { errnoCode, errnoText, showPath, systemFailure } from './os-error';

export interface AtomicWriteOptions {
  /** The target's permission bits, exactly (the umask does not apply): 0o600 for state, 0o644 for metrics. */
  readonly mode: number;
  /**
   * Where the temp file is made, when not beside the target: on the same file system, and
   * somewhere its presence does no harm (a hook goes into a directory libvirt runs every file of).
   */
  readonly tempDir?: string;
  /** The times the file gets (an updated hook keeps the time it first appeared). */
  readonly times?: { readonly atime: Date; readonly mtime: Date };
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** Throws SystemError (exit 3) naming `path` and the errno; on failure the old file is intact and no temp is left. */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions): void {
  const dir = dirname(path);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const { fd, temp } = createTemp(options.tempDir ?? dir, basename(path), options.mode, path);
  try {
    try {
      // The file is created with `mode` minus the umask: set the exact bits before any data is in it.
      fchmodSync(fd, options.mode);
      writeAll(fd, bytes);
      if (options.times) futimesSync(fd, options.times.atime, options.times.mtime);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    removeQuietly(temp);
    throw systemFailure('write', path, err);
  }
  syncDirectory(dir, path);
}

/** Makes a directory entry change (rename, unlink) durable. Used after writes and removals. */
export function syncDirectory(dir: string, changed: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch (err) {
    // Some file systems cannot fsync a directory (EINVAL); the change is made, just not forced out.
    if (errnoCode(err) === 'EINVAL') return;
    throw new SystemError(`changed ${showPath(changed)} but cannot sync its directory: ${errnoText(err)}`, { cause: err });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function createTemp(dir: string, base: string, mode: number, target: string): { fd: number; temp: string } {
  // O_EXCL never reuses a name, not even one planted as a symlink; a clash (pid, time and ~40
  // random bits) is all but impossible, and retried. Math.random rather than node:crypto, whose
  // load (~4 ms) would land on the hook's path, which reads the cache through this module.
  for (let attempt = 0; ; attempt++) {
    const temp = join(dir, `.${base.slice(0, 200)}.${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 10)}.tmp`);
    try {
      return { fd: openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode), temp };
    } catch (err) {
      if (errnoCode(err) === 'EEXIST' && attempt < 5) continue;
      throw systemFailure('write', target, err);
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or the directory refuses: the original error is the one to report
  }
}
