/**
 * One reconcile run at a time per state directory: an exclusive flock(2) on
 * `<stateDir>/reconcile.lock`, which the kernel releases the moment the holder's last descriptor
 * closes, so a holder killed with SIGKILL frees it at once and no stale lock ever needs breaking.
 *
 * Node cannot call flock(2) itself. The lock belongs to the open file description, not to the
 * process that takes it, so we open the file, hand the descriptor to util-linux's flock(1) as
 * its fd 3, and let it lock that description and exit: the lock then lives exactly as long as
 * our own descriptor. Waiting happens in the kernel (`flock --wait`), which wakes the waiter as
 * soon as the holder lets go. Node opens every descriptor close-on-exec, so the virsh processes a
 * run spawns never inherit the lock.
 *
 * Why not an abstract-namespace UNIX socket, which the kernel also frees on death: Node 18.20
 * (Debian 12's) binds `'\0name'` as an all-zero 108-byte name (libuv takes the length with
 * strlen), so every such lock on the host would be the same lock, and Node 20 binds a different
 * name for the same string (as /proc/net/unix shows; measured with both Nodes on Debian 12).
 *
 * The holder writes its pid into the file, for the message a waiter that gives up prints.
 */
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, lstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SystemError } from '../errors';
import { errnoCode, showPath, systemFailure } from './os-error';
import { ensurePrivateDir, trustProblem } from './state-dir';

/** The lock was still held when the wait ran out: a run of its own, not a failure of the system. */
export class LockBusyError extends SystemError {
  override readonly name = 'LockBusyError';
}

export interface RunLock {
  readonly path: string;
  /**
   * Another holder came first (it was waited for, or replaced the file): whatever the caller saw
   * before taking the lock may have changed under that holder.
   */
  readonly waited: boolean;
  /** Idempotent. Exiting, or being killed, releases the lock as well. */
  release(): Promise<void>;
}

export interface RunLockOptions {
  /** How long to wait for a run that holds the lock; 0: fail at once. */
  readonly waitMs: number;
  /** Another lock in the state directory (`cache sync` has its own), and what holds it, for the message. */
  readonly file?: string;
  readonly holderName?: string;
}

export const LOCK_FILE = 'reconcile.lock';
/** util-linux, essential on Debian and Ubuntu; looked up at fixed paths, never through PATH. */
const FLOCK_PATHS = ['/usr/bin/flock', '/bin/flock'];
/** flock(1)'s exit status when the lock is held elsewhere (EX_TEMPFAIL), told apart from its errors. */
const BUSY = 75;
/** A lock file replaced under a waiter: try the new one, a few times. */
const MAX_ATTEMPTS = 5;
/** How long past its own wait a flock(1) may take before it counts as hung. */
const FLOCK_GRACE_MS = 10_000;

/** Creates the state directory if needed (0700); throws SystemError when another run holds the lock past `waitMs`. */
export async function acquireRunLock(stateDir: string, options: RunLockOptions): Promise<RunLock> {
  ensurePrivateDir(stateDir);
  const path = join(stateDir, options.file ?? LOCK_FILE);
  const deadline = Date.now() + Math.max(0, options.waitMs);
  for (let attempt = 1; ; attempt++) {
    const { fd, readOnly } = openLockFile(path);
    let held = false;
    try {
      const got = await flock(fd, deadline - Date.now(), path);
      if (got === 'busy') {
        const waited = options.waitMs > 0 ? `; waited ${formatWait(options.waitMs)}` : '';
        throw new LockBusyError(`another ${options.holderName ?? 'reconcile'} holds the lock ${showPath(path)} (${holder(fd)})${waited}`);
      }
      // Someone removed or replaced the file while we waited: this lock guards nothing.
      if (isStillAt(fd, path)) {
        held = true;
        return holding(fd, path, readOnly, got === 'after-wait' || attempt > 1);
      }
      if (attempt >= MAX_ATTEMPTS) throw new SystemError(`cannot lock ${showPath(path)}: the file keeps being replaced`);
    } finally {
      if (!held) closeSync(fd);
    }
  }
}

/**
 * On a read-only state directory (a file system the kernel remounted read-only after errors) an
 * existing lock file still locks: flock(2) needs no write access, and reconcile only reads the
 * cache there, so the ports are still kept true.
 */
function openLockFile(path: string): { fd: number; readOnly: boolean } {
  let fd: number;
  let readOnly = false;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (err) {
    if (errnoCode(err) !== 'EROFS') throw systemFailure('open the lock file', path, err);
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      readOnly = true;
    } catch {
      throw systemFailure('open the lock file', path, err);
    }
  }
  const stats = fstatSync(fd);
  const problem = stats.isFile() ? trustProblem(stats, path, 'file') : `${showPath(path)}: not a regular file`;
  if (problem !== undefined) {
    closeSync(fd);
    throw new SystemError(problem);
  }
  return { fd, readOnly };
}

async function flock(fd: number, waitMs: number, path: string): Promise<'at-once' | 'after-wait' | 'busy'> {
  // Loaded here: a reconcile that needs no lock (reconcile-run.ts) starts no process at all.
  const { runProcess, runProcessSync } = await import('./process');
  const bin = FLOCK_PATHS.find((p) => existsSync(p));
  if (bin === undefined) throw new SystemError(`cannot lock ${showPath(path)}: flock(1) from util-linux is not in /usr/bin or /bin`);
  const options = { extraFds: [fd], allowFailure: true } as const;
  const onFd3 = ['--conflict-exit-code', String(BUSY), '3'];
  // The usual case, nobody holding it, costs one flock that returns at once, run synchronously;
  // only a lock held elsewhere is waited for, with the event loop free meanwhile (flock waits in
  // the kernel and gives up by itself; the time limits only guard against a hung flock).
  const tried = runProcessSync([bin, '--nonblock', ...onFd3], { ...options, timeoutMs: FLOCK_GRACE_MS });
  const waits = tried.exitCode === BUSY && waitMs >= 1;
  const r = waits ? await runProcess([bin, '--wait', (waitMs / 1000).toFixed(3), ...onFd3], { ...options, timeoutMs: waitMs + FLOCK_GRACE_MS }) : tried;
  if (r.exitCode === 0) return waits ? 'after-wait' : 'at-once';
  if (r.exitCode === BUSY) return 'busy';
  throw new SystemError(`cannot lock ${showPath(path)}: flock ${r.signal ?? `exited ${r.exitCode ?? '?'}`}: ${r.stderr.trim()}`);
}

function isStillAt(fd: number, path: string): boolean {
  try {
    const now = lstatSync(path);
    const ours = fstatSync(fd);
    return now.ino === ours.ino && now.dev === ours.dev;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw systemFailure('check the lock file', path, err);
  }
}

function holding(fd: number, path: string, readOnly: boolean, waited: boolean): RunLock {
  // The pid is only for a waiter's message: a full or read-only disk must not stop a run that
  // needs no disk at all (reconcile reads the cache and writes libvirt).
  if (!readOnly) bestEffort(() => {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  });
  let released = false;
  return {
    path,
    waited,
    release: () => {
      if (!released) {
        released = true;
        if (!readOnly) bestEffort(() => {
          ftruncateSync(fd, 0);
        });
        closeSync(fd);
      }
      return Promise.resolve();
    },
  };
}

function bestEffort(write: () => void): void {
  try {
    write();
  } catch {
    // ENOSPC, EIO, EROFS: the lock itself (flock on the open file) is unaffected.
  }
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** `pid N` as the holder wrote it, for the message; the holder may not have written it yet. */
function holder(fd: number): string {
  try {
    const pid = /^(\d+)\n$/.exec(readFileSync(fd, 'utf8'))?.[1];
    return pid === undefined ? 'pid unknown' : `pid ${pid}`;
  } catch {
    return 'pid unknown';
  }
}
