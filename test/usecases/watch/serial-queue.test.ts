import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SerialQueue } from '../../../src/usecases/watch/serial-queue';

/** A job runner whose jobs finish only when the test says so. */
function gatedRunner() {
  const log: string[] = [];
  const gates: (() => void)[] = [];
  let active = 0;
  let maxActive = 0;
  const run = async (key: string, reasons: readonly string[]) => {
    active++;
    maxActive = Math.max(maxActive, active);
    log.push(`${key}(${reasons.join(',')})`);
    await new Promise<void>((r) => gates.push(r));
    active--;
  };
  const release = async () => {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { log, run, release, maxActive: () => maxActive };
}

/** Lets the queue work until `done` holds (each turn of the loop lets promise jobs run). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setImmediate(r));
}

const noError = (err: unknown) => {
  throw err;
};

test('one job at a time, in order; a key waiting twice runs once with both reasons', async () => {
  const r = gatedRunner();
  const q = new SerialQueue<string, string>(r.run, noError);
  q.add('a', ['device-added']);
  q.add('b', ['cache']);
  q.add('b', ['metadata-change', 'cache']);
  await r.release();
  await r.release();
  await q.stop();
  assert.equal(r.log, ['a(device-added)', 'b(cache,metadata-change)']);
  assert.is(r.maxActive(), 1);
});

test('a key queued while it runs runs again afterwards', async () => {
  const r = gatedRunner();
  const q = new SerialQueue<string, string>(r.run, noError);
  q.add('a', ['x']);
  await new Promise((res) => setImmediate(res));
  q.add('a', ['y']);
  await r.release();
  await r.release();
  await q.stop();
  assert.equal(r.log, ['a(x)', 'a(y)']);
});

test('stop finishes the job in progress, drops the waiting ones, takes no more', async () => {
  const r = gatedRunner();
  const q = new SerialQueue<string, string>(r.run, noError);
  q.add('a', ['x']);
  q.add('b', ['x']);
  let stopped = false;
  const stopping = q.stop().then(() => (stopped = true));
  await new Promise((res) => setImmediate(res));
  assert.not.ok(stopped, 'waits for the running job');
  await r.release();
  await stopping;
  q.add('c', ['x']);
  await new Promise((res) => setImmediate(res));
  assert.equal(r.log, ['a(x)']);
});

test('clearWaiting drops waiting jobs only; a failing job goes to onError and the queue goes on', async () => {
  const log: string[] = [];
  const errors: unknown[] = [];
  const q = new SerialQueue<string, string>(
    async (key) => {
      log.push(key);
      await Promise.resolve();
      if (key === 'boom') throw new Error('boom');
    },
    (err) => errors.push(err),
  );
  q.add('boom', []);
  q.add('a', []);
  q.add('b', []);
  q.clearWaiting();
  q.add('c', []);
  await until(() => log.length === 2);
  await q.stop();
  assert.equal(log, ['boom', 'c']);
  assert.equal(errors.map((e) => (e as Error).message), ['boom']);
});

test.run();
