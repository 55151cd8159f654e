/** The times history's --at, --since and --until take. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTime, parseTimeSpec } from '../../src/core/time-spec';

const NOW = new Date('2026-11-30T10:00:00Z');
const at = (text: string) => parseTimeSpec(text, NOW)?.toISOString();

test('ISO 8601 with Z or an offset, to the second or beyond', () => {
  assert.is(at('2026-11-29T03:12:00Z'), '2026-11-29T03:12:00.000Z');
  assert.is(at('2026-11-29T03:12:09.25Z'), '2026-11-29T03:12:09.250Z');
  assert.is(at('2026-11-29 03:12Z'), '2026-11-29T03:12:00.000Z');
  assert.is(at('2026-11-29T05:12:00+02:00'), '2026-11-29T03:12:00.000Z');
  assert.is(at('2026-11-29T05:12:00+0200'), '2026-11-29T03:12:00.000Z');
  assert.is(at('2026-11-28T22:12:00-05'), '2026-11-29T03:12:00.000Z');
  assert.is(at('2026-11-29t03:12:00z'), '2026-11-29T03:12:00.000Z');
});

test('without a zone: the local time, as date(1) reads it', () => {
  assert.is(parseTimeSpec('2026-11-29T03:12', NOW)?.getTime(), new Date(2026, 10, 29, 3, 12).getTime());
  assert.is(parseTimeSpec('2026-11-29', NOW)?.getTime(), new Date(2026, 10, 29).getTime());
});

test('relative to now, and Unix seconds', () => {
  assert.is(at('now'), NOW.toISOString());
  assert.is(at('2h ago'), '2026-11-30T08:00:00.000Z');
  assert.is(at('90 minutes ago'), '2026-11-30T08:30:00.000Z');
  assert.is(at('-90m'), '2026-11-30T08:30:00.000Z');
  assert.is(at('-1w'), '2026-11-23T10:00:00.000Z');
  assert.is(at('3 days ago'), '2026-11-27T10:00:00.000Z');
  assert.is(at('-30s'), '2026-11-30T09:59:30.000Z');
  assert.is(at('@1700000000'), '2023-11-14T22:13:20.000Z');
  assert.is(parseTimeSpec('today', NOW)?.getTime(), new Date(NOW.getFullYear(), NOW.getMonth(), NOW.getDate()).getTime());
  assert.is(parseTimeSpec('yesterday', NOW)?.getTime(), new Date(NOW.getFullYear(), NOW.getMonth(), NOW.getDate() - 1).getTime());
});

test('anything else is no time: undefined', () => {
  for (const bad of ['', 'soon', '2026-02-30', '2026-02-30T00:00Z', '2026-13-01', '2026-11-29T24:00Z', '2h', '2 fortnights ago', '@', '1700000000', '2026/11/29', '+2h']) {
    assert.is(parseTimeSpec(bad, NOW), undefined, bad);
  }
});

test('printed as ISO 8601 in UTC, to the second', () => {
  assert.is(formatTime(new Date('2026-11-29T03:12:09.877Z')), '2026-11-29T03:12:09Z');
});

test.run();
