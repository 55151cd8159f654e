/** `nova-ipmeta history`, through runMain and the built bundle, over a log written as the writers write it. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatRecord, type HistoryRecord, type SeenBy } from '../../src/core/history';
import { parseIp } from '../../src/core/ip';
import type { Uuid } from '../../src/core/model';
import { BUNDLE, NODES, runInProcess } from '../support/cli';

const DB = { domain: 'instance-0000002b', instance: '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5' as Uuid, name: 'db-1', project: 'f241e906-010e-4917-ae81-53f4fb8aa021', port: '567a4527-b0e4-4d0a-bcc2-71fda37897f7' as Uuid, mac: 'fa:16:3e:5b:1c:09' };
const WEB = { domain: 'instance-0000002a', instance: '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a' as Uuid, name: 'web-1', project: null, port: 'c2f4a9d1-7e3b-4a60-9f15-2b8d6e4c1a07' as Uuid, mac: null };
type Who = typeof DB | typeof WEB;

function rec(time: string, event: HistoryRecord['event'], by: SeenBy, who: Who, address: string, type: 'fixed' | 'floating' = 'floating'): HistoryRecord {
  const ip = parseIp(address);
  if (!ip) throw new Error(address);
  return { time, event, by, ...who, mac: who.mac as HistoryRecord['mac'], address: ip.address, type, version: ip.version };
}

// 203.0.113.25 on db-1 from 03:00, moved to web-1 at 03:20 (noticed 03:21), still there.
const LOG = [
  rec('2020-11-29T03:00:00.000Z', 'added', 'seed', DB, '192.168.1.1', 'fixed'),
  rec('2020-11-29T03:00:00.000Z', 'added', 'seed', DB, '203.0.113.25'),
  rec('2020-11-29T03:00:00.000Z', 'added', 'seed', WEB, 'fdf8:f53b:82e4::7', 'fixed'),
  rec('2020-11-29T03:20:00.000Z', 'removed', 'repair', DB, '203.0.113.25'),
  rec('2020-11-29T03:21:00.000Z', 'added', 'found', WEB, '203.0.113.25'),
]
  .map(formatRecord)
  .join('');

const tmp = mkdtempSync(join(tmpdir(), 'history-cmd-'));
const state = join(tmp, 'state');
mkdirSync(join(state, 'history'), { recursive: true, mode: 0o700 });
writeFileSync(join(state, 'history', 'addresses.jsonl'), LOG, { mode: 0o600 });
// A torn last line, as a crash leaves it.
writeFileSync(join(state, 'history', 'addresses.jsonl'), LOG + LOG.slice(0, 90), { mode: 0o600 });

const run = async (...argv: string[]) => {
  const r = await runInProcess(['history', ...argv, '--state-dir', state, '--config', join(tmp, 'none.conf')]);
  return { code: r.code, out: r.stdout, err: r.stderr };
};
writeFileSync(join(tmp, 'none.conf'), '');

test('an address: one row per instance and interval, oldest first, as a table', async () => {
  const r = await run('203.0.113.25');
  assert.is(r.code, 0, r.err);
  assert.is(r.err, '');
  assert.is(
    r.out,
    [
      'DOMAIN             INSTANCE                              NAME   PORT                                  ADDRESS       TYPE      FROM                  UNTIL',
      'instance-0000002b  0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5  db-1   567a4527-b0e4-4d0a-bcc2-71fda37897f7  203.0.113.25  floating  2020-11-29T03:00:00Z  2020-11-29T03:20:00Z',
      'instance-0000002a  9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a  web-1  c2f4a9d1-7e3b-4a60-9f15-2b8d6e4c1a07  203.0.113.25  floating  2020-11-29T03:21:00Z  -',
      '',
    ].join('\n'),
  );
});

test('--at, --since, --until pick the intervals; relative and offset times', async () => {
  const at = async (...opts: string[]) => (await run('203.0.113.25', '-f', 'value', '-c', 'name', ...opts)).out;
  assert.is(await at('--at', '2020-11-29T03:12:00Z'), 'db-1\n');
  assert.is(await at('--at', '2020-11-29T05:12:00+02:00'), 'db-1\n');
  assert.is(await at('--at', '2020-11-29T03:20:00Z'), '');
  assert.is(await at('--at', 'now'), 'web-1\n');
  assert.is(await at('--at', '@1606620600'), 'web-1\n');
  assert.is(await at('--since', '2020-11-29T03:20:00Z'), 'db-1\nweb-1\n');
  assert.is(await at('--since=-1h'), 'web-1\n');
  assert.is(await at('--since', '1 hour ago'), 'web-1\n');
  assert.is(await at('--until', '2020-11-29T03:20:30Z'), 'db-1\n');
  assert.is(await at('--since', '2020-11-29T03:10:00Z', '--until', '2020-11-29T03:30:00Z'), 'db-1\nweb-1\n');
});

test('-f json and csv carry every column: project, MAC, version, and what saw each end', async () => {
  const r = await run('203.0.113.25', '--json');
  assert.is(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out), [
    { domain: DB.domain, instanceId: DB.instance, name: 'db-1', projectId: DB.project, portId: DB.port, mac: DB.mac, address: '203.0.113.25', type: 'floating', ipVersion: 4, from: '2020-11-29T03:00:00Z', until: '2020-11-29T03:20:00Z', addedBy: 'seed', removedBy: 'repair' },
    { domain: WEB.domain, instanceId: WEB.instance, name: 'web-1', projectId: null, portId: WEB.port, mac: null, address: '203.0.113.25', type: 'floating', ipVersion: 4, from: '2020-11-29T03:21:00Z', until: null, addedBy: 'found', removedBy: null },
  ]);
  const csv = await run('203.0.113.25', '-f', 'csv', '-c', 'domain', '-c', 'from', '-c', 'until', '-c', 'REMOVED_BY');
  assert.is(csv.out, 'domain,from,until,removedBy\r\ninstance-0000002b,2020-11-29T03:00:00Z,2020-11-29T03:20:00Z,repair\r\ninstance-0000002a,2020-11-29T03:21:00Z,,\r\n');
});

test('a port, a MAC, an instance UUID; IPv6 in any textual form', async () => {
  const addresses = async (what: string) => (await run(what, '-f', 'value', '-c', 'address')).out;
  assert.is(await addresses(DB.port), '192.168.1.1\n203.0.113.25\n');
  assert.is(await addresses('FA-16-3E-5B-1C-09'), '192.168.1.1\n203.0.113.25\n');
  assert.is(await addresses(WEB.instance.toUpperCase()), 'fdf8:f53b:82e4::7\n203.0.113.25\n');
  assert.is(await addresses('FDF8:F53B:82E4:0:0:0:0:7'), 'fdf8:f53b:82e4::7\n');
});

test('nothing matching: exit 1 saying so (an empty document for programs); no history at all: exit 1', async () => {
  const none = await run('203.0.113.26');
  assert.equal(none, { code: 1, out: '', err: 'nova-ipmeta: no instance held 203.0.113.26 on this host\n' });
  const json = await run('203.0.113.25', '--at', '2020-11-29T02:00:00Z', '--json');
  assert.equal(json, { code: 1, out: '[]\n', err: 'nova-ipmeta: no instance held 203.0.113.25 on this host at 2020-11-29T02:00:00Z\n' });
  const empty = join(tmp, 'empty');
  mkdirSync(empty, { mode: 0o700 });
  const r = await runInProcess(['history', '203.0.113.25', '--state-dir', empty, '--config', join(tmp, 'none.conf')]);
  assert.equal([r.code, r.stderr], [1, `nova-ipmeta: no address history in ${join(empty, 'history')} yet (reconcile and the watcher record it)\n`]);
});

test('bad input: exit 2 naming it; --at with --since is a usage error', async () => {
  for (const [argv, message] of [
    [['db-1'], 'nova-ipmeta: address: "db-1" is not an IP address, a MAC, a port UUID or an instance UUID'],
    [['10.0.0.999'], 'nova-ipmeta: address: "10.0.0.999" is not an IP address'],
    [['203.0.113.25', '--at', 'teatime'], 'nova-ipmeta: --at: "teatime" is not a time (ISO 8601 such as 2026-11-30T03:12:00Z, @UNIX-SECONDS, now, today, yesterday, 2h ago, -90m)'],
    [['203.0.113.25', '--since', 'now', '--until', 'yesterday'], 'nova-ipmeta: --since: '],
    [['203.0.113.25', '--at', 'now', '--since', 'yesterday'], 'nova-ipmeta: history: --at excludes --since and --until (see nova-ipmeta history --help)'],
  ] as const) {
    const r = await run(...argv);
    assert.is(r.code, 2, argv.join(' '));
    assert.ok(r.err.startsWith(message), r.err);
  }
});

test('a damaged line (not the torn last one) is skipped with a warning', async () => {
  const dir = join(tmp, 'damaged');
  mkdirSync(join(dir, 'history'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'history', 'addresses.jsonl'), `{"time":"x","address":"203.0.113.25"}\n${LOG}`, { mode: 0o600 });
  const r = await runInProcess(['history', '203.0.113.25', '--state-dir', dir, '--config', join(tmp, 'none.conf'), '-f', 'value', '-c', 'name']);
  assert.equal([r.code, r.stdout, r.stderr], [0, 'db-1\nweb-1\n', `nova-ipmeta: warning: 1 damaged line in ${join(dir, 'history')} skipped\n`]);
});

for (const [label, node] of NODES) {
  test(`${label}: the bundle answers the same`, () => {
    const r = spawnSync(node, [BUNDLE, 'history', '203.0.113.25', '--at', '2020-11-29T03:12:00Z', '--json', '--state-dir', state, '--config', join(tmp, 'none.conf')], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { name: string }[]).map((x) => x.name), ['db-1']);
  });
}

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
