/** `reconcile --check` as a monitoring plugin, where no libvirt is needed: its options, its line, its status. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IpAddress } from '../../src/core/ip';
import type { Uuid } from '../../src/core/model';
import { parsePluginRange, type PluginRange } from '../../src/core/plugin-range';
import { checkLine, checkStatus } from '../../src/commands/reconcile/check';
import type { Outcome } from '../../src/usecases/reconcile/outcome';
import type { RunReport } from '../../src/usecases/reconcile/reconcile-run';
import { runInProcess } from '../support/cli';

const range = (text: string) => parsePluginRange(text) as PluginRange;
const port = { id: '567a4527-b0e4-4d0a-bcc2-71fda37897f7' as Uuid, ips: [{ type: 'fixed' as const, address: '10.0.0.1' as IpAddress, version: 4 as const }] };
const inSync: Outcome = { domain: 'a', uuid: '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a', kind: 'in-sync', ports: [port] };
const drift = (n: number): Outcome[] => Array.from({ length: n }, (_, i) => ({ domain: `d${i}`, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, kind: 'would-repair', changes: {}, ports: [] }));
const report = (outcomes: Outcome[]): RunReport => ({ outcomes, orphanCaches: [], durationSeconds: 0.25, libvirtCommands: 1, decidedFromFiles: 0 });

test('OK, WARNING, CRITICAL by the ranges; a domain that could not be checked is CRITICAL', () => {
  const t = { warning: range('0'), critical: range('5') };
  assert.is(checkStatus(report([inSync]), t), 0);
  assert.is(checkStatus(report([inSync, ...drift(1)]), t), 1);
  assert.is(checkStatus(report([inSync, ...drift(5)]), t), 1);
  assert.is(checkStatus(report([inSync, ...drift(6)]), t), 2);
  assert.is(checkStatus(report([inSync, { domain: 'b', uuid: '11111111-2222-4333-8444-555555555555', kind: 'error', reason: 'gone' }]), t), 2);
  assert.is(checkStatus(report([...drift(3)]), { warning: range('5'), critical: undefined }), 0, '-w 5 warns from 6');
});

test('one line, perfdata with the ranges as given', () => {
  const t = { warning: range('0'), critical: range('@10:20') };
  const r = report([inSync, ...drift(3)]);
  assert.is(checkLine(r, checkStatus(r, t), t), 'NOVA-IPMETA WARNING - 3 of 4 instances drifted | in_sync=1 drifted=3;0;@10:20;0;4 no_cache=0 errors=0 not_nova=0 orphan_caches=0 duration=0.250s');
});

test('options that would write or print more, and bad ranges, are UNKNOWN with one line on stdout', async () => {
  for (const [argv, line] of [
    [['--textfile', '/tmp/x.prom'], '--check writes nothing and prints one line: not with --textfile'],
    [['--sync'], '--check writes nothing and prints one line: not with --sync'],
    [['--json'], '--check writes nothing and prints one line: not with --json'],
    [['-w', 'x'], '--warning: "x" is not a range ([@]start:end, e.g. 10, 10:, ~:10, 10:20, @10:20)'],
    [['--critical', '5:1'], '--critical: "5:1": the start is above the end'],
  ] as const) {
    const r = await runInProcess(['reconcile', '--check', ...argv]);
    assert.equal(r, { code: 3, stdout: `NOVA-IPMETA UNKNOWN - ${line}\n`, stderr: '' }, argv.join(' '));
  }
});

test('--textfile describes every domain: not with --domain', async () => {
  const r = await runInProcess(['reconcile', '--domain', 'x', '--textfile', '/tmp/x.prom']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--textfile describes every domain: not with --domain/);
});

test.run();
