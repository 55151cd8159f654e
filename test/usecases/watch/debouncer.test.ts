import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Debouncer, type Timers } from '../../../src/usecases/watch/debouncer';

/** A manual clock: timers fire only when the test advances time. */
class FakeTimers implements Timers {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now() {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number) {
    this.seq++;
    this.timers.set(this.seq, { at: this.t + ms, fn });
    return this.seq;
  }
  clearTimeout(handle: unknown) {
    this.timers.delete(handle as number);
  }
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

function setup(quietMs = 250, maxWaitMs = 2000) {
  const timers = new FakeTimers();
  const fired: [string, string[], number][] = [];
  const d = new Debouncer<string, string>({ quietMs, maxWaitMs, timers, fire: (k, r) => fired.push([k, [...r], timers.now()]) });
  return { timers, fired, d };
}

test('a burst on one key fires once, quietMs after the last trigger, with every reason once', () => {
  const { timers, fired, d } = setup();
  d.trigger('a', 'device-added');
  timers.advance(100);
  d.trigger('a', 'metadata-change');
  timers.advance(100);
  d.trigger('a', 'device-added');
  timers.advance(249);
  assert.equal(fired, []);
  assert.is(d.size, 1);
  timers.advance(1);
  assert.equal(fired, [['a', ['device-added', 'metadata-change'], 450]]);
  assert.is(d.size, 0);
});

test('keys are independent', () => {
  const { timers, fired, d } = setup();
  d.trigger('a', 'x');
  timers.advance(200);
  d.trigger('b', 'y');
  timers.advance(50);
  assert.equal(fired, [['a', ['x'], 250]]);
  timers.advance(200);
  assert.equal(fired, [
    ['a', ['x'], 250],
    ['b', ['y'], 450],
  ]);
});

test('a key that never goes quiet still fires after maxWaitMs, then starts a new window', () => {
  const { timers, fired, d } = setup(250, 1000);
  for (let i = 0; i < 20; i++) {
    d.trigger('a', 'metadata-change');
    timers.advance(100);
  }
  assert.equal(
    fired.map((f) => f[2]),
    [1000, 2000],
  );
});

test('a trigger after firing starts over', () => {
  const { timers, fired, d } = setup();
  d.trigger('a', 'x');
  timers.advance(300);
  d.trigger('a', 'y');
  timers.advance(300);
  assert.equal(fired, [
    ['a', ['x'], 250],
    ['a', ['y'], 550],
  ]);
});

test('cancel drops everything pending', () => {
  const { timers, fired, d } = setup();
  d.trigger('a', 'x');
  d.trigger('b', 'x');
  d.cancel();
  timers.advance(10_000);
  assert.equal(fired, []);
  assert.is(d.size, 0);
});

test('real timers by default', async () => {
  const fired: string[] = [];
  const d = new Debouncer<string, string>({ quietMs: 20, maxWaitMs: 100, fire: (k) => fired.push(k) });
  d.trigger('a', 'x');
  d.trigger('a', 'y');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(fired, ['a']);
});

test.run();
