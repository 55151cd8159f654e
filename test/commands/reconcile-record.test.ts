/**
 * The last run's record (`last-run.json`) is read, merged and replaced under a lock of its own,
 * so that two full runs ending together cannot carry over from the same earlier record and lose
 * what the other kept. No libvirt is needed: a run that cannot reach libvirt still keeps its
 * record, carrying the last success over.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBundleAsync } from '../support/cli';
import { untilFlockWaits } from '../support/flock-waiter';

const state = mkdtempSync(join(tmpdir(), 'nova-ipmeta-record-'));
const config = join(state, 'nova-ipmeta.conf');
const recordFile = join(state, 'last-run.json');
const lock = join(state, 'last-run.lock');
writeFileSync(config, '');
// A socket nobody listens on: the run fails before it reaches any domain.
const argv = ['reconcile', '--connect', `qemu+unix:///system?socket=${join(state, 'no-daemon.sock')}`, '--state-dir', state, '--config', config];

const record = (lastSuccess: number) => `${JSON.stringify({ finishedAt: lastSuccess, durationSeconds: 1, reconcile: { success: true, lastSuccess } })}\n`;
const kept = () => JSON.parse(readFileSync(recordFile, 'utf8')) as { finishedAt: number; reconcile: { success: boolean; lastSuccess?: number } };

test('a run reads the record it carries over from only once it holds the record lock', async () => {
  writeFileSync(recordFile, record(1000), { mode: 0o600 });
  // Another run is keeping its record (flock -o: the lock is flock's own, freed when it is killed).
  const holder = spawn('flock', ['-o', lock, 'sleep', '120'], { stdio: 'ignore', detached: true });
  try {
    const running = runBundleAsync(argv);
    await untilFlockWaits(lock, 'the run kept its record without waiting for the record lock');
    // What the holder keeps before it lets go: the record this run must carry over from.
    writeFileSync(recordFile, record(2000), { mode: 0o600 });
    process.kill(-(holder.pid as number), 'SIGKILL');
    const r = await running;
    assert.is(r.code, 3, r.stderr);
    const after = kept();
    assert.is(after.reconcile.success, false);
    assert.is(after.reconcile.lastSuccess, 2000, 'carried over from the record kept while it waited');
    assert.ok(after.finishedAt > 2000);
  } finally {
    try {
      process.kill(-(holder.pid as number), 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

test('a holder that does not let go: the record is not kept, which is said; the textfile is still written', async () => {
  writeFileSync(recordFile, record(3000), { mode: 0o600 });
  const prom = join(state, 'metrics.prom');
  const holder = spawn('flock', ['-o', lock, 'sleep', '120'], { stdio: 'ignore', detached: true });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    // RECORD_LOCK_WAIT_MS is 10 s; the run waits that long, then goes on without the record.
    const r = await runBundleAsync([...argv, '--textfile', prom]);
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, /the last run's record not kept: another reconcile writing the last run's record holds the lock .*last-run\.lock/);
    assert.is(kept().reconcile.lastSuccess, 3000, 'left as it was');
    assert.is(kept().finishedAt, 3000);
    assert.match(readFileSync(prom, 'utf8'), /^nova_ipmeta_reconcile_last_success_timestamp_seconds 3000$/m);
    assert.match(readFileSync(prom, 'utf8'), /^nova_ipmeta_reconcile_success 0$/m);
  } finally {
    process.kill(-(holder.pid as number), 'SIGKILL');
  }
});

test('a dry run keeps no record and takes no lock', async () => {
  rmSync(lock, { force: true });
  const before = readFileSync(recordFile, 'utf8');
  const r = await runBundleAsync([...argv, '--dry-run', '--textfile', join(state, 'dry.prom')]);
  assert.is(r.code, 3, r.stderr);
  assert.is(readFileSync(recordFile, 'utf8'), before);
  assert.not.ok(existsSync(lock));
});

test.after(() => {
  rmSync(state, { recursive: true, force: true });
});
test.run();
