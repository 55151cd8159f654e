import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FlapGuard } from '../../../src/usecases/watch/flap-guard';

function setup() {
  let now = 0;
  const guard = new FlapGuard<string>({ maxRepairs: 3, windowMs: 60_000, holdMs: 300_000, now: () => now });
  return { guard, at: (t: number) => (now = t) };
}

test('a few repairs in a row are fine; one too many within the window starts a hold', () => {
  const { guard, at } = setup();
  for (const t of [0, 1000, 2000]) {
    at(t);
    assert.not.ok(guard.repaired('a'));
  }
  assert.not.ok(guard.held('a'));
  at(3000);
  assert.ok(guard.repaired('a'), 'the fourth starts the hold');
  assert.ok(guard.held('a'));
  assert.not.ok(guard.held('b'), 'per key');
  at(302_999);
  assert.ok(guard.held('a'));
  at(303_000);
  assert.not.ok(guard.held('a'), 'the hold ends');
  assert.not.ok(guard.repaired('a'), 'and the count starts over');
});

test('repairs spread wider than the window never hold', () => {
  const { guard, at } = setup();
  for (let i = 0; i < 20; i++) {
    at(i * 30_000);
    assert.not.ok(guard.repaired('a'), `repair ${i}`);
  }
});

test.run();
