/**
 * The state directory (`/var/lib/nova-ipmeta`, 0700) and what may be trusted in it. The tool runs
 * as root and writes what it reads there into every instance's domain XML, so it must not take
 * input from a file that someone else could have planted or rewritten:
 *
 * - a directory or file that group or others can write is refused (the sticky bit does not
 *   help: a planted file is the problem, not a deleted one);
 * - so is one owned by anyone but root or the current user, since its owner can chmod it at will;
 * - cache files are opened without following symlinks (see cache-store.ts).
 *
 * Directories are checked through a symlink (an operator may move the state to another disk);
 * the ancestors of the state directory are not checked: they are the system's (`/var/lib`).
 * Read paths never create anything: `inspectPrivateDir` reports a missing directory as such.
 */
import { chmodSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { SystemError } from '../errors';
import { errnoCode, showPath, systemFailure } from './os-error';

export type DirState = 'missing' | 'ok';

/** Checks `path` if it exists; throws SystemError when it is not a directory or not private enough. */
export function inspectPrivateDir(path: string): DirState {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'missing';
    throw systemFailure('read', path, err);
  }
  if (!stats.isDirectory()) throw new SystemError(`${showPath(path)}: not a directory`);
  assertTrusted(stats, path, 'directory');
  return 'ok';
}

/**
 * Creates `path` (0700, owned by the current user) if it is missing, then checks it. Its parent
 * must exist: a mistyped `--state-dir` should fail, not grow a tree.
 */
export function ensurePrivateDir(path: string): void {
  if (inspectPrivateDir(path) === 'ok') return;
  try {
    mkdirSync(path, { mode: 0o700 });
    // mkdir applies the umask, which may have removed our own bits.
    chmodSync(path, 0o700);
  } catch (err) {
    // Another process created it first: check what it made.
    if (errnoCode(err) !== 'EEXIST') throw systemFailure('create the directory', path, err);
  }
  inspectPrivateDir(path);
}

/** Why a file or directory cannot be trusted, or undefined when it can. */
export function trustProblem(stats: Stats, path: string, kind: 'directory' | 'file'): string | undefined {
  const uid = currentUid();
  if (stats.uid !== uid && stats.uid !== 0) {
    return `${showPath(path)}: owned by uid ${stats.uid}, not by root or the current user; run chown ${uid} ${showPath(path)}`;
  }
  const perm = stats.mode & 0o7777;
  if ((perm & 0o022) !== 0) {
    const fix = kind === 'directory' ? '0700' : '0600';
    return `${showPath(path)}: writable by group or others (mode ${perm.toString(8).padStart(4, '0')}); run chmod ${fix} ${showPath(path)}`;
  }
  return undefined;
}

export function assertTrusted(stats: Stats, path: string, kind: 'directory' | 'file'): void {
  const problem = trustProblem(stats, path, kind);
  if (problem !== undefined) throw new SystemError(problem);
}

function currentUid(): number {
  // process.getuid is undefined only on Windows, which this tool does not run on.
  return process.getuid?.() ?? 0;
}
