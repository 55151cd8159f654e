/** The Monitoring Plugins guidelines' threshold ranges, as `reconcile --check` reads --warning and --critical. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alerts, parsePluginRange, type PluginRange } from '../../src/core/plugin-range';

const range = (text: string): PluginRange => {
  const r = parsePluginRange(text);
  if (typeof r === 'string') throw new Error(r);
  return r;
};
const alerting = (text: string, values: number[]) => values.filter((v) => alerts(range(text), v));

test("the guidelines' examples: outside the range alerts, @ turns it around", () => {
  assert.equal(alerting('10', [-1, 0, 5, 10, 11]), [-1, 11]);
  assert.equal(alerting('10:', [-1, 9, 10, 11]), [-1, 9]);
  assert.equal(alerting('~:10', [-1000, 10, 11]), [11]);
  assert.equal(alerting('10:20', [9, 10, 20, 21]), [9, 21]);
  assert.equal(alerting('@10:20', [9, 10, 15, 20, 21]), [10, 15, 20]);
});

test('0, the default warning, alerts from one drifted instance on', () => {
  assert.equal(alerting('0', [0, 1, 200]), [1, 200]);
  assert.equal(range('0').text, '0', 'perfdata repeats the range as given');
});

test('anything else is refused with a reason', () => {
  for (const bad of ['', '@', 'x', '1:2:3', '5:1', '1e3', '~', ':', '10:~', '--1']) {
    assert.type(parsePluginRange(bad), 'string', bad);
  }
  assert.is(parsePluginRange('5:1'), '"5:1": the start is above the end');
});

test.run();
