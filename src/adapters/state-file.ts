/**
 * A small file of the tool's own in a private directory (the last run's record, the address history's current.json), under the same
 * trust rules as the cache (state-dir.ts): written atomically, 0600; read only when it is a
 * regular file (never through a symbolic link, never blocking on a FIFO) that no one else could
 * have written, and up to a bound.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { SystemError } from '../errors';
import { writeFileAtomic } from './atomic-file';
import { readRegularFile } from './file-read';
import { errnoCode, showPath, systemFailure } from './os-error';
import { inspectPrivateDir, trustProblem } from './state-dir';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** The file's text, or undefined when there is none (nor a state directory); throws SystemError when it cannot be trusted or read. */
export function readStateFile(stateDir: string, name: string, maxBytes: number): string | undefined {
  return readStateBytes(stateDir, name, maxBytes)?.toString('utf8');
}

/** The same, as bytes (UTF-8 when the tool wrote it). */
export function readStateBytes(stateDir: string, name: string, maxBytes: number): Buffer | undefined {
  if (inspectPrivateDir(stateDir) === 'missing') return undefined;
  const path = join(stateDir, name);
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw systemFailure('read', path, err);
  }
  try {
    const stats = fstatSync(fd);
    const problem = stats.isFile() ? trustProblem(stats, path, 'file') : `${showPath(path)}: not a regular file`;
    if (problem !== undefined) throw new SystemError(problem);
    try {
      return readRegularFile(fd, { maxBytes });
    } catch (err) {
      throw systemFailure('read', path, err);
    }
  } finally {
    closeSync(fd);
  }
}

/** Replaces the file atomically, 0600, in an existing state directory. */
export function writeStateFile(stateDir: string, name: string, text: string): void {
  inspectPrivateDir(stateDir);
  writeFileAtomic(join(stateDir, name), text, { mode: 0o600 });
}
