/**
 * The run lock, between real processes: a second run waits in the kernel while the first holds
 * it, a SIGKILLed holder frees it at once, and separate state directories do not contend.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireRunLock, LOCK_FILE } from '../../src/adapters/run-lock';
import { SystemError } from '../../src/errors';
import { fillUp, withTmpfs } from '../support/tmpfs';

const tmp = mkdtempSync(join(tmpdir(), 'run-lock-'));
let n = 0;
const freshStateDir = () => join(tmp, `state${n++}`);
const LOCK_URL = new URL('../../src/adapters/run-lock.ts', import.meta.url).href;

/**
 * A process that takes the lock (waiting up to `waitMs`), prints `acquired <marker exists> <waited>`, and
 * on a line on stdin writes the marker file, releases, and exits. With `sleeper`, it first
 * starts a long `sleep` and prints its pid, to show children do not inherit the lock.
 */
type Proc = ChildProcessByStdio<Writable, Readable, null>;
function lockProcess(stateDir: string, waitMs: number, marker: string, sleeper = false): Proc {
  const script = `
    import { spawn } from 'node:child_process';
    import { existsSync, writeFileSync } from 'node:fs';
    const { acquireRunLock } = await import(${JSON.stringify(LOCK_URL)});
    const lock = await acquireRunLock(${JSON.stringify(stateDir)}, { waitMs: ${waitMs} });
    if (${sleeper}) {
      const s = spawn('sleep', ['600'], { stdio: 'ignore', detached: true });
      s.unref();
      process.stdout.write('sleeper ' + s.pid + '\\n');
    }
    process.stdout.write('acquired ' + existsSync(${JSON.stringify(marker)}) + ' ' + lock.waited + '\\n');
    process.stdin.once('data', async () => {
      writeFileSync(${JSON.stringify(marker)}, 'released');
      await lock.release();
      process.stdin.destroy();
    });
  `;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** The lines a process prints, read one at a time. */
const lineReaders = new WeakMap<Proc, () => Promise<string>>();
function line(p: Proc): Promise<string> {
  let next = lineReaders.get(p);
  if (!next) {
    const lines = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
    next = async () => {
      const r = await lines.next();
      if (r.done === true) throw new Error('exited without printing a line');
      return r.value;
    };
    lineReaders.set(p, next);
  }
  return next();
}

function exited(p: Proc): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve();
    else
      p.once('exit', () => {
        resolve();
      });
  });
}

/**
 * Whether the process `pid` waits for the lock: its flock(1) child runs with --wait and sleeps.
 * (/proc/locks would show the waiter too, but not inside a PID namespace whose lock owner, the
 * flock(1) that took the lock and exited, is not visible there: the kernel then hides the entry.)
 */
function waitsForLock(pid: number | undefined): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== pid || state !== 'S') continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('flock') && argv.includes('--wait')) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** Polls `check` until it holds; fails the test after a minute rather than hanging the run. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) assert.unreachable('the condition did not come within a minute');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, Error);
    return err as Error;
  }
  assert.unreachable('resolved');
  throw new Error('unreachable');
}

test('creates the state directory 0700 and a 0600 lock file holding the pid; release empties it', async () => {
  const dir = freshStateDir();
  const lock = await acquireRunLock(dir, { waitMs: 0 });
  assert.is(statSync(dir).mode & 0o7777, 0o700);
  assert.is(lock.path, join(dir, LOCK_FILE));
  assert.is(statSync(lock.path).mode & 0o7777, 0o600);
  assert.is(readFileSync(lock.path, 'utf8'), `${process.pid}\n`);
  assert.is(lock.waited, false, 'nobody held it');
  await lock.release();
  await lock.release();
  assert.is(readFileSync(lock.path, 'utf8'), '');
});

test('within one process too: a second acquire fails at once while held, succeeds after release', async () => {
  const dir = freshStateDir();
  const first = await acquireRunLock(dir, { waitMs: 0 });
  const err = await rejection(acquireRunLock(dir, { waitMs: 0 }));
  assert.instance(err, SystemError);
  assert.is(err.message, `another reconcile holds the lock ${join(dir, LOCK_FILE)} (pid ${process.pid})`);
  await first.release();
  await (await acquireRunLock(dir, { waitMs: 0 })).release();
});

test('a second process waits while the first holds the lock, and gets it when it is released', async () => {
  const dir = freshStateDir();
  const marker = join(tmp, `released${n}`);
  const holder = lockProcess(dir, 0, marker);
  assert.is(await line(holder), 'acquired false false');
  const err = await rejection(acquireRunLock(dir, { waitMs: 0 }));
  assert.is(err.message, `another reconcile holds the lock ${join(dir, LOCK_FILE)} (pid ${holder.pid})`);

  const waiter = lockProcess(dir, 600_000, marker);
  const acquired = line(waiter);
  // The waiter is blocked in the kernel on this very file before the holder lets go.
  await until(() => waitsForLock(waiter.pid));
  holder.stdin.write('release\n');
  // It got the lock only after the holder wrote the marker, just before releasing, and says it waited.
  assert.is(await acquired, 'acquired true true');
  waiter.stdin.write('release\n');
  await Promise.all([exited(holder), exited(waiter)]);
  assert.is(holder.exitCode, 0);
  assert.is(waiter.exitCode, 0);
});

test('a holder killed with SIGKILL frees the lock at once, though a child it started lives on', async () => {
  const dir = freshStateDir();
  const marker = join(tmp, `released${n}`);
  const holder = lockProcess(dir, 0, marker, true);
  const sleeper = Number((await line(holder)).split(' ')[1]);
  assert.is(await line(holder), 'acquired false false');
  const waiter = lockProcess(dir, 600_000, marker);
  const acquired = line(waiter);
  await until(() => waitsForLock(waiter.pid));
  try {
    holder.kill('SIGKILL');
    await exited(holder);
    assert.is(holder.signalCode, 'SIGKILL');
    // The waiter wakes, though the holder never released and its child still runs.
    assert.is(await acquired, 'acquired false true');
    assert.ok(existsSync(`/proc/${sleeper}`), 'the sleeper should still run');
    waiter.stdin.write('release\n');
    await exited(waiter);
    // And with no wait at all, once nobody holds it.
    await (await acquireRunLock(dir, { waitMs: 0 })).release();
  } finally {
    process.kill(sleeper, 'SIGKILL');
  }
});

test('giving up after waitMs names the holder and the wait', async () => {
  const dir = freshStateDir();
  const holder = lockProcess(dir, 0, join(tmp, `released${n}`));
  assert.is(await line(holder), 'acquired false false');
  const err = await rejection(acquireRunLock(dir, { waitMs: 200 }));
  assert.is(err.message, `another reconcile holds the lock ${join(dir, LOCK_FILE)} (pid ${holder.pid}); waited 200 ms`);
  holder.kill('SIGKILL');
  await exited(holder);
});

test('different state directories do not contend', async () => {
  const a = await acquireRunLock(freshStateDir(), { waitMs: 0 });
  const b = await acquireRunLock(freshStateDir(), { waitMs: 0 });
  await a.release();
  await b.release();
});

test('an untrusted state directory is refused before any lock is taken', async () => {
  const dir = freshStateDir();
  await (await acquireRunLock(dir, { waitMs: 0 })).release();
  const { chmodSync } = await import('node:fs');
  chmodSync(dir, 0o757);
  const err = await rejection(acquireRunLock(dir, { waitMs: 0 }));
  assert.instance(err, SystemError);
  assert.is(err.message, `${dir}: writable by group or others (mode 0757); run chmod 0700 ${dir}`);
});

test('a full disk: the lock still locks and frees, the pid is just not written (reconcile needs no disk)', async () => {
  await withTmpfs(async (mnt) => {
    for (const existing of [true, false]) {
      const dir = join(mnt, `state-${existing}`);
      if (existing) await (await acquireRunLock(dir, { waitMs: 0 })).release();
      else mkdirSync(dir, { mode: 0o700 });
      fillUp(mnt);
      const lock = await acquireRunLock(dir, { waitMs: 0 });
      assert.is(readFileSync(lock.path, 'utf8'), '', 'no room for the pid');
      const err = await rejection(acquireRunLock(dir, { waitMs: 0 }));
      assert.is(err.message, `another reconcile holds the lock ${join(dir, LOCK_FILE)} (pid unknown)`);
      await lock.release();
      await (await acquireRunLock(dir, { waitMs: 0 })).release();
      rmSync(join(mnt, 'filler'));
    }
  });
});

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
