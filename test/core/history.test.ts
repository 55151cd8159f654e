/** The address history's pure parts: records and their lines, the changes an observation makes, the intervals a query prints. */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  EMPTY_STATE,
  formatRecord,
  formatState,
  heldAddresses,
  heldRecords,
  inWindow,
  intervalsOf,
  parseRecord,
  parseState,
  portMacs,
  recordChanges,
  stateOfRecords,
  type HeldAddress,
  type HistoryRecord,
  type HistoryState,
  type InstanceIdentity,
  type Observation,
} from '../../src/core/history';
import { parseIp } from '../../src/core/ip';
import { parseMac, parseUuid, type Uuid } from '../../src/core/model';

const uuid = (s: string) => parseUuid(s) as Uuid;
const A = uuid('0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5');
const B = uuid('9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a');
const PORT_A = uuid('567a4527-b0e4-4d0a-bcc2-71fda37897f7');
const PORT_B = uuid('c2f4a9d1-7e3b-4a60-9f15-2b8d6e4c1a07');
const MAC_A = parseMac('fa:16:3e:5b:1c:09') ?? null;
const ID_A: InstanceIdentity = { domain: 'instance-0000002b', name: 'db-1', project: 'f241e906-010e-4917-ae81-53f4fb8aa021' };
const ID_B: InstanceIdentity = { domain: 'instance-0000002a', name: 'web-1', project: null };

function held(port: Uuid, address: string, type: 'fixed' | 'floating' = 'fixed', mac = MAC_A): HeldAddress {
  const ip = parseIp(address);
  if (!ip) throw new Error(address);
  return { port, mac, address: ip.address, type, version: ip.version };
}

const T = (minute: number) => new Date(Date.UTC(2026, 10, 30, 3, minute)).toISOString();
const observe = (state: HistoryState, o: Partial<Observation> & Pick<Observation, 'now'>) =>
  recordChanges(state, { time: T(0), instance: A, identity: ID_A, found: o.now, ...o });
const stateWith = (complete: boolean, entries: [Uuid, InstanceIdentity, HeldAddress[], string?][]): HistoryState => ({
  complete,
  instances: new Map(entries.map(([u, id, addresses, since]) => [u, { ...id, addresses: addresses.map((a) => ({ ...a, since: since ?? T(0), by: 'seed' as const })) }])),
});

test('a record is one line of JSON, keys in a fixed order, and reads back as itself', () => {
  const r: HistoryRecord = { time: T(12), event: 'added', by: 'repair', ...ID_A, instance: A, ...held(PORT_A, '11.22.33.44', 'floating') };
  const line = formatRecord(r);
  assert.is(
    line,
    `{"time":"${T(12)}","event":"added","by":"repair","domain":"instance-0000002b","instance":"${A}","name":"db-1","project":"f241e906-010e-4917-ae81-53f4fb8aa021","port":"${PORT_A}","mac":"fa:16:3e:5b:1c:09","address":"11.22.33.44","type":"floating","version":4}\n`,
  );
  assert.equal(parseRecord(line), r);
  // Unknown values are left out, and read back as null.
  const bare: HistoryRecord = { ...r, name: null, project: null, mac: null };
  assert.not.match(formatRecord(bare), /name|project|mac/);
  assert.equal(parseRecord(formatRecord(bare)), bare);
  const heldLine: HistoryRecord = { ...r, event: 'held', since: T(1) };
  assert.equal(parseRecord(formatRecord(heldLine)), heldLine);
});

test('lines that are not records are refused: torn, damaged, foreign, non-canonical', () => {
  const line = formatRecord({ time: T(12), event: 'added', by: 'repair', ...ID_A, instance: A, ...held(PORT_A, 'fdf8:f53b:82e4::52') });
  for (const bad of [
    line.slice(0, 80),
    '',
    '[]',
    'null',
    line.replace('"added"', '"moved"'),
    line.replace('"repair"', '"magic"'),
    line.replace('fdf8:f53b:82e4::52', 'FDF8:F53B:82E4::52'),
    line.replace('"version":6', '"version":4'),
    line.replace('"type":"fixed"', '"type":"other"'),
    line.replace(`"instance":"${A}"`, '"instance":"db-1"'),
    line.replace(`"time":"${T(12)}"`, '"time":"yesterday-ish"'),
    line.replace('"event":"added"', '"event":"held"'),
  ]) {
    assert.is(parseRecord(bad), undefined, bad);
  }
});

test('the first run seeds; later runs record repairs, what was found, and the gone', () => {
  const a1 = held(PORT_A, '192.168.1.1');
  const fip = held(PORT_A, '11.22.33.44', 'floating');
  const seeded = observe(EMPTY_STATE, { now: [a1, fip] });
  assert.equal(seeded.records.map((r) => [r.event, r.by, r.address]), [['added', 'seed', '192.168.1.1'], ['added', 'seed', '11.22.33.44']]);

  const state = stateWith(true, [[A, ID_A, [a1]]]);
  // The floating IP was not in the XML: reconcile wrote it.
  const repaired = observe(state, { time: T(5), found: [a1], now: [a1, fip] });
  assert.equal(repaired.records.map((r) => [r.time, r.event, r.by, r.address]), [[T(5), 'added', 'repair', '11.22.33.44']]);
  assert.equal(repaired.next?.addresses.map((a) => [a.address, a.since, a.by]), [['192.168.1.1', T(0), 'seed'], ['11.22.33.44', T(5), 'repair']]);
  // nova wrote a new fixed IP itself, and dropped the old one: found in the XML.
  const a2 = held(PORT_A, '192.168.1.2');
  const found = observe(state, { found: [a2], now: [a2] });
  assert.equal(found.records.map((r) => [r.event, r.by, r.address]), [['added', 'found', '192.168.1.2'], ['removed', 'found', '192.168.1.1']]);
  // nova's overwrite dropped it, reconcile put it back before anyone saw: no news.
  assert.equal(observe(state, { found: [], now: [a1] }).records, []);
  // The cache dropped it and reconcile removed it from the XML.
  assert.equal(observe(state, { found: [a1], now: [] }).records.map((r) => [r.event, r.by]), [['removed', 'repair']]);
  const gone = recordChanges(state, { time: T(9), instance: A, identity: ID_A, found: null, now: [], gone: true });
  assert.equal(gone.records.map((r) => [r.event, r.by, r.domain, r.name]), [['removed', 'gone', 'instance-0000002b', 'db-1']]);
  assert.is(gone.next, undefined);
});

test('nothing changed: no record, whatever the MAC learnt meanwhile', () => {
  const noMac = held(PORT_A, '192.168.1.1', 'fixed', null);
  const state = stateWith(true, [[A, ID_A, [noMac]]]);
  const again = observe(state, { now: [held(PORT_A, '192.168.1.1')] });
  assert.equal(again.records, []);
  assert.is(again.next?.addresses[0]?.mac, 'fa:16:3e:5b:1c:09');
  assert.equal(observe(stateWith(true, [[A, ID_A, [held(PORT_A, '10.0.0.1')]]]), { now: [held(PORT_A, '10.0.0.1')] }).records, []);
});

test('before a run over every domain completed, an instance first seen is seed; after, it is new', () => {
  const other = stateWith(false, [[B, ID_B, []]]);
  assert.equal(observe(other, { found: [], now: [held(PORT_A, '10.0.0.1')] }).records.map((r) => r.by), ['seed']);
  assert.equal(observe({ ...other, complete: true }, { found: [], now: [held(PORT_A, '10.0.0.1')] }).records.map((r) => r.by), ['repair']);
  assert.equal(observe({ ...other, complete: true }, { now: [held(PORT_A, '10.0.0.1')] }).records.map((r) => r.by), ['found']);
});

test('heldAddresses keeps well-formed entries only, in canonical form, once; portMacs by cache or device name', () => {
  const ports = [
    { id: PORT_A, ips: [{ type: 'fixed', address: 'FDF8:F53B:82E4:0::52', version: '6' }, { type: 'fixed', address: 'fdf8:f53b:82e4::52', version: '6' }, { type: 'fixed', address: '10.0.0.999', version: '4' }, { type: 'odd', address: '10.0.0.1', version: '4' }, { type: 'fixed', address: '10.0.0.2', version: '6' }] },
    { id: 'not-a-uuid', ips: [{ type: 'fixed', address: '10.0.0.3', version: '4' }] },
    { id: PORT_B, ips: [{ type: 'floating', address: '11.22.33.45', version: 4 }] },
  ];
  const macs = portMacs([PORT_A, PORT_B], [{ mac: parseMac('fa:16:3e:00:00:01'), dev: 'tap567a4527-b0' }, { mac: parseMac('fa:16:3e:00:00:02'), dev: undefined }], [
    { id: PORT_B, mac: parseMac('fa:16:3e:00:00:02') as NonNullable<ReturnType<typeof parseMac>>, ips: [] },
  ]);
  assert.equal(macs, { [PORT_A]: 'fa:16:3e:00:00:01', [PORT_B]: 'fa:16:3e:00:00:02' });
  assert.equal(
    heldAddresses({ ports, macs }).map((h) => [h.port, h.address, h.type, h.version, h.mac]),
    [
      [PORT_A, 'fdf8:f53b:82e4::52', 'fixed', 6, 'fa:16:3e:00:00:01'],
      [PORT_B, '11.22.33.45', 'floating', 4, 'fa:16:3e:00:00:02'],
    ],
  );
});

test('intervals: added then removed, moved between instances, still held; repeats are no news', () => {
  const fip = held(PORT_A, '203.0.113.25', 'floating');
  const onB = held(PORT_B, '203.0.113.25', 'floating', null);
  const rec = (minute: number, event: HistoryRecord['event'], instance: Uuid, a: HeldAddress, by: HistoryRecord['by'] = 'repair', id = instance === A ? ID_A : ID_B): HistoryRecord => ({ time: T(minute), event, by, ...id, instance, ...a });
  const records = [
    rec(0, 'added', A, fip, 'seed'),
    rec(1, 'added', A, fip, 'seed'), // a run killed before its state, repeated
    rec(10, 'removed', A, fip),
    rec(11, 'removed', A, fip),
    rec(12, 'added', B, onB, 'found'),
    rec(20, 'removed', B, onB, 'gone'),
    rec(30, 'added', A, fip),
  ];
  assert.equal(
    intervalsOf(records).map((i) => [i.instance, i.from, i.until, i.addedBy, i.removedBy]),
    [
      [A, T(0), T(10), 'seed', 'repair'],
      [B, T(12), T(20), 'found', 'gone'],
      [A, T(30), null, 'repair', null],
    ],
  );
});

test('intervals: a held record (a rotated log) starts at its since, unless already open', () => {
  const a = held(PORT_A, '10.0.0.1');
  const heldRec: HistoryRecord = { time: T(40), event: 'held', by: 'found', ...ID_A, instance: A, ...a, since: T(3) };
  assert.equal(intervalsOf([heldRec]).map((i) => [i.from, i.until, i.addedBy]), [[T(3), null, 'found']]);
  const added: HistoryRecord = { ...heldRec, time: T(3), event: 'added' };
  delete (added as { since?: string }).since;
  assert.equal(intervalsOf([added, heldRec]).map((i) => [i.from, i.until]), [[T(3), null]]);
  const state = stateWith(true, [[A, ID_A, [a], T(3)]]);
  assert.equal(heldRecords(state, T(40)).map((r) => [r.event, r.time, r.since, r.by]), [['held', T(40), T(3), 'seed']]);
});

test('intervals follow the order written, not the clock: a clock stepped back reorders nothing', () => {
  const a = held(PORT_A, '10.0.0.1');
  const add: HistoryRecord = { time: T(30), event: 'added', by: 'repair', ...ID_A, instance: A, ...a };
  const remove: HistoryRecord = { ...add, time: T(20), event: 'removed' };
  assert.equal(intervalsOf([add, remove]).map((i) => [i.from, i.until]), [[T(30), T(20)]]);
});

test('time windows: --at within [from, until), --since/--until overlapping', () => {
  const i = intervalsOf([
    { time: T(10), event: 'added', by: 'repair', ...ID_A, instance: A, ...held(PORT_A, '10.0.0.1') },
    { time: T(20), event: 'removed', by: 'repair', ...ID_A, instance: A, ...held(PORT_A, '10.0.0.1') },
  ])[0];
  if (!i) throw new Error('no interval');
  const at = (m: number) => new Date(T(m));
  assert.ok(inWindow(i, {}));
  assert.ok(inWindow(i, { at: at(10) }));
  assert.ok(inWindow(i, { at: at(19) }));
  assert.not.ok(inWindow(i, { at: at(20) }));
  assert.not.ok(inWindow(i, { at: at(9) }));
  assert.ok(inWindow(i, { since: at(20) }));
  assert.not.ok(inWindow(i, { since: at(21) }));
  assert.ok(inWindow(i, { until: at(10) }));
  assert.not.ok(inWindow(i, { until: at(9) }));
  assert.ok(inWindow(i, { since: at(0), until: at(15) }));
  const open = { ...i, until: null };
  assert.ok(inWindow(open, { at: at(59) }));
});

test('the state file reads back as itself, with the mark of its log; anything else is not a state', () => {
  const state = stateWith(true, [[A, ID_A, [held(PORT_A, '10.0.0.1'), held(PORT_A, '2001:db8::1', 'fixed', null)]], [B, ID_B, []]]);
  const text = formatState(state, '1234:567');
  assert.equal(parseState(text), { state, mark: '1234:567' });
  assert.equal(parseState(formatState(state, undefined)), { state, mark: undefined });
  // The state the log implies is the same.
  const records = [...state.instances].flatMap(([instance, s]) => s.addresses.map((a): HistoryRecord => ({ time: a.since, event: 'added', by: a.by, domain: s.domain, name: s.name, project: s.project, instance, port: a.port, mac: a.mac, address: a.address, type: a.type, version: a.version })));
  assert.equal(stateOfRecords(records, true), { ...state, instances: new Map([...state.instances].filter(([, s]) => s.addresses.length > 0)) });
  for (const bad of ['', '{}', '{"version":2,"complete":true,"instances":{}}', text.replace('"10.0.0.1"', '"10.0.0.999"'), text.slice(0, 40)]) {
    assert.is(parseState(bad), undefined, bad);
  }
});

test('property: any run of observations gives intervals that match the last state', () => {
  const addresses = ['10.0.0.1', '10.0.0.2', '203.0.113.25'].map((a) => held(PORT_A, a));
  fc.assert(
    fc.property(fc.array(fc.subarray(addresses), { maxLength: 12 }), (steps) => {
      let state: HistoryState = { complete: true, instances: new Map() };
      const records: HistoryRecord[] = [];
      steps.forEach((now, i) => {
        const { records: r, next } = recordChanges(state, { time: T(i), instance: A, identity: ID_A, found: now, now });
        records.push(...r);
        state = { complete: true, instances: new Map(next ? [[A, next]] : []) };
      });
      const open = intervalsOf(records).filter((i) => i.until === null).map((i) => i.address).sort();
      const last = (steps.at(-1) ?? []).map((a) => a.address).sort();
      return JSON.stringify(open) === JSON.stringify(last);
    }),
  );
});

test.run();
