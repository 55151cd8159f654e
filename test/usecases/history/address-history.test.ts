/**
 * Recording the address history from reconcile outcomes, on real files: seeding, repeated runs
 * that write nothing, an instance gone, the state lost and rebuilt from the log, and a full or
 * read-only disk (a small tmpfs), where the recording stops with one line and nothing throws.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { intervalsOf, type HistoryRecord } from '../../../src/core/history';
import type { Ini } from '../../../src/core/ini';
import { LOG_FILE, readAllRecords, STATE_FILE } from '../../../src/adapters/history-log';
import { AddressHistory } from '../../../src/usecases/history/address-history';
import { fillUp, remount, withTmpfs } from '../../support/tmpfs';
import type { Outcome } from '../../../src/usecases/reconcile/outcome';

const tmp = mkdtempSync(join(tmpdir(), 'address-history-'));
let n = 0;
function freshState(): string {
  const dir = join(tmp, `state${n++}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

const DB = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const WEB = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
const PORT_DB = '567a4527-b0e4-4d0a-bcc2-71fda37897f7';
const PORT_WEB = 'c2f4a9d1-7e3b-4a60-9f15-2b8d6e4c1a07';
const ip = (type: 'fixed' | 'floating', address: string) => ({ type, address, version: address.includes(':') ? '6' : '4' });

/** An outcome as reconcile-domain makes it: `found` what the XML held, `ports` what it holds now. */
function outcome(kind: 'in-sync' | 'repaired' | 'no-cache', uuid: string, found: string[], now: string[] = found, port = uuid === DB ? PORT_DB : PORT_WEB): Outcome {
  const ports = (addresses: string[]) => [{ id: port, ips: addresses.map((a) => ip(a.startsWith('203.') ? 'floating' : 'fixed', a)) }];
  const base = { domain: uuid === DB ? 'instance-0000002b' : 'instance-0000002a', uuid, projectId: 'f241e906-010e-4917-ae81-53f4fb8aa021', ports: ports(now), observed: { name: uuid === DB ? 'db-1' : 'web-1', found: ports(found), macs: { [port]: 'fa:16:3e:5b:1c:09' } } };
  return kind === 'repaired' ? { ...base, kind, changes: {} } : { ...base, kind };
}

let clock = Date.parse('2026-11-30T03:00:00Z');
function history(stateDir: string, ini: Ini = new Map()): { h: AddressHistory; logged: string[] } {
  const logged: string[] = [];
  const h = new AddressHistory({ stateDir, ini, configFile: 'test.conf', log: (l) => logged.push(l), now: () => new Date((clock += 60_000)) });
  return { h, logged };
}

/** One run: each outcome observed, then the end (with `present` for a run over every domain). */
function run(h: AddressHistory, outcomes: Outcome[], present?: string[]): void {
  const r = h.begin();
  for (const o of outcomes) r.observe(o);
  r.finish(present);
}

function records(stateDir: string): HistoryRecord[] {
  return readAllRecords(join(stateDir, 'history'))?.records ?? [];
}
const summary = (rs: HistoryRecord[]) => rs.map((r) => `${r.event} ${r.by} ${r.domain} ${r.address}`);

test('the first run over every domain seeds; the same again writes nothing, not even the state file', () => {
  const state = freshState();
  const { h, logged } = history(state);
  run(h, [outcome('repaired', DB, ['192.168.1.1'], ['192.168.1.1', '203.0.113.25']), outcome('in-sync', WEB, ['10.0.0.1'])], [DB, WEB]);
  assert.equal(summary(records(state)), ['added seed instance-0000002b 192.168.1.1', 'added seed instance-0000002b 203.0.113.25', 'added seed instance-0000002a 10.0.0.1']);
  const [first] = records(state);
  assert.equal([first?.name, first?.project, first?.mac, first?.port], ['db-1', 'f241e906-010e-4917-ae81-53f4fb8aa021', 'fa:16:3e:5b:1c:09', PORT_DB]);
  const files = [LOG_FILE, STATE_FILE].map((f) => join(state, 'history', f));
  const before = files.map((f) => [readFileSync(f, 'utf8'), statSync(f).mtimeMs, statSync(f).ino]);
  // nova's overwrite repaired again (found without the floating IP, now with it): no news either.
  run(history(state).h, [outcome('repaired', DB, ['192.168.1.1'], ['192.168.1.1', '203.0.113.25']), outcome('in-sync', WEB, ['10.0.0.1'])], [DB, WEB]);
  run(history(state).h, [outcome('in-sync', DB, ['192.168.1.1', '203.0.113.25'])]);
  assert.equal(files.map((f) => [readFileSync(f, 'utf8'), statSync(f).mtimeMs, statSync(f).ino]), before);
  assert.equal(logged, []);
});

test('changes: a repair, what nova wrote, the floating IP moving to another instance, an instance gone', () => {
  const state = freshState();
  const { h } = history(state);
  run(h, [outcome('in-sync', DB, ['192.168.1.1']), outcome('in-sync', WEB, ['10.0.0.1'])], [DB, WEB]);
  // The cache gains a floating IP: reconcile writes it.
  run(h, [outcome('repaired', DB, ['192.168.1.1'], ['192.168.1.1', '203.0.113.25'])]);
  // nova wrote a new fixed IP into web-1 itself (no cache for it).
  run(h, [outcome('no-cache', WEB, ['10.0.0.1', '10.0.0.2'])]);
  // The floating IP moves from db-1 to web-1.
  run(h, [outcome('repaired', DB, ['192.168.1.1', '203.0.113.25'], ['192.168.1.1']), outcome('repaired', WEB, ['10.0.0.1', '10.0.0.2'], ['10.0.0.1', '10.0.0.2', '203.0.113.25'])], [DB, WEB]);
  // db-1 is undefined: the next run over every domain does not list it.
  run(h, [outcome('in-sync', WEB, ['10.0.0.1', '10.0.0.2', '203.0.113.25'])], [WEB]);
  assert.equal(summary(records(state)).slice(2), [
    'added repair instance-0000002b 203.0.113.25',
    'added found instance-0000002a 10.0.0.2',
    'removed repair instance-0000002b 203.0.113.25',
    'added repair instance-0000002a 203.0.113.25',
    'removed gone instance-0000002b 192.168.1.1',
  ]);
  const fip = intervalsOf(records(state).filter((r) => r.address === '203.0.113.25'));
  assert.equal(fip.map((i) => [i.domain, i.addedBy, i.removedBy, i.until === null]), [
    ['instance-0000002b', 'repair', 'repair', false],
    ['instance-0000002a', 'repair', null, true],
  ]);
  // The watcher's way: a domain found undefined.
  const r = h.begin();
  r.gone(WEB as never);
  r.finish();
  assert.equal(summary(records(state)).slice(-3), ['removed gone instance-0000002a 10.0.0.1', 'removed gone instance-0000002a 10.0.0.2', 'removed gone instance-0000002a 203.0.113.25']);
});

test('before a run over every domain, instances are seeded as first seen; dry runs and errors record nothing', () => {
  const state = freshState();
  const { h } = history(state);
  run(h, [outcome('in-sync', DB, ['192.168.1.1'])]);
  run(h, [outcome('in-sync', WEB, ['10.0.0.1']), { domain: 'x', uuid: DB, kind: 'error', reason: 'boom' }, { ...outcome('repaired', DB, []), kind: 'would-repair' } as Outcome]);
  assert.equal(summary(records(state)), ['added seed instance-0000002b 192.168.1.1', 'added seed instance-0000002a 10.0.0.1']);
  // Once every domain has been seen, a new one is new.
  run(h, [], [DB, WEB]);
  run(h, [outcome('repaired', '11111111-2222-4333-8444-555555555555', [], ['10.9.9.9'], PORT_WEB)]);
  assert.equal(summary(records(state)).at(-1), 'added repair instance-0000002a 10.9.9.9');
});

test('current.json lost or damaged: rebuilt from the log, so nothing is seeded twice and the gone are still noticed', () => {
  const state = freshState();
  const { h } = history(state);
  run(h, [outcome('in-sync', DB, ['192.168.1.1']), outcome('in-sync', WEB, ['10.0.0.1'])], [DB, WEB]);
  unlinkSync(join(state, 'history', STATE_FILE));
  run(h, [outcome('in-sync', DB, ['192.168.1.1'])], [DB]);
  writeFileSync(join(state, 'history', STATE_FILE), '{"version":1,"comp', { mode: 0o600 });
  run(h, [outcome('in-sync', DB, ['192.168.1.1', '192.168.1.5'])], [DB]);
  assert.equal(summary(records(state)), [
    'added seed instance-0000002b 192.168.1.1',
    'added seed instance-0000002a 10.0.0.1',
    'removed gone instance-0000002a 10.0.0.1',
    'added found instance-0000002b 192.168.1.5',
  ]);
});

test('a run that died after appending, before replacing its state: the next run goes by the log', () => {
  const state = freshState();
  const { h } = history(state);
  run(h, [outcome('in-sync', DB, ['192.168.1.1'])], [DB]);
  // Killed before its end: 10.0.0.9 is in the log, not in current.json.
  h.begin().observe(outcome('in-sync', DB, ['192.168.1.1', '10.0.0.9']));
  // 10.0.0.9 is gone by the next run: its interval must end, not stay open for ever.
  run(h, [outcome('in-sync', DB, ['192.168.1.1'])], [DB]);
  run(h, [outcome('in-sync', DB, ['192.168.1.1'])], [DB]);
  assert.equal(summary(records(state)), ['added seed instance-0000002b 192.168.1.1', 'added found instance-0000002b 10.0.0.9', 'removed found instance-0000002b 10.0.0.9']);
});

test('rotation: the bound is kept, and an address held since long ago keeps its beginning', () => {
  const state = freshState();
  const { h } = history(state, new Map([['history', new Map([['max_file_size', '2K'], ['keep_files', '2']])]]));
  run(h, [outcome('in-sync', DB, ['192.168.1.1']), outcome('in-sync', WEB, [])], [DB, WEB]);
  const since = records(state)[0]?.time;
  for (let i = 0; i < 60; i++) run(h, [outcome('in-sync', WEB, [`10.0.0.${i}`])], [DB, WEB]);
  assert.equal(readdirSync(join(state, 'history')).sort(), [LOG_FILE, `${LOG_FILE}.1`, `${LOG_FILE}.2`, STATE_FILE]);
  const all = records(state);
  assert.not.ok(all.some((r) => r.event === 'added' && r.address === '192.168.1.1'), 'its record was rotated away');
  assert.equal(intervalsOf(all).filter((i) => i.until === null).map((i) => [i.address, i.from, i.addedBy]), [
    ['192.168.1.1', since, 'seed'],
    ['10.0.0.59', intervalsOf(all).find((i) => i.address === '10.0.0.59')?.from, 'found'],
  ]);
});

test('[history] enabled = false records nothing; a bad value stops it with one line naming the key', () => {
  const off = freshState();
  run(history(off, new Map([['history', new Map([['enabled', 'false']])]])).h, [outcome('in-sync', DB, ['192.168.1.1'])], [DB]);
  assert.equal(readdirSync(off), []);
  const bad = freshState();
  const { h, logged } = history(bad, new Map([['history', new Map([['keep_files', 'lots']])]]));
  run(h, [outcome('in-sync', DB, ['192.168.1.1'])], [DB]);
  run(h, [outcome('in-sync', DB, ['192.168.1.1'])], [DB]);
  assert.equal(logged, ['address history not recorded: test.conf: [history] keep_files: "lots" is not a whole number from 0 to 1000']);
});

test('a full disk: the recording stops with one line, nothing throws, the log stays whole; it catches up once there is room', async () => {
  await withTmpfs((mnt) => {
    const state = join(mnt, 'state');
    mkdirSync(state, { mode: 0o700 });
    const { h, logged } = history(state);
    run(h, [outcome('in-sync', DB, ['192.168.1.1'])], [DB]);
    const logBefore = readFileSync(join(state, 'history', LOG_FILE), 'utf8');
    fillUp(mnt);
    // Records big enough not to fit in what the filler left.
    const many = Array.from({ length: 200 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
    run(h, [outcome('in-sync', DB, ['192.168.1.1', ...many])], [DB]);
    run(h, [outcome('in-sync', DB, ['192.168.1.1', ...many, '10.2.0.1'])], [DB]);
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0] ?? '', /^address history not recorded: cannot (append to|write) .*: ENOSPC \(no space left on device\)$/);
    // What made it to disk is whole records of the batch, then perhaps a torn line: readable.
    const after = records(state);
    assert.is(summary(after)[0], 'added seed instance-0000002b 192.168.1.1');
    assert.equal(summary(after.slice(1)), many.slice(0, after.length - 1).map((a) => `added found instance-0000002b ${a}`));
    assert.ok(readFileSync(join(state, 'history', LOG_FILE), 'utf8').startsWith(logBefore));
    // Room again: the next run takes what the log says (not the state file, older than the log),
    // so the records that made it to disk get their end, and the changes missed are recorded.
    unlinkSync(join(mnt, 'filler'));
    run(h, [outcome('in-sync', DB, ['192.168.1.1', '10.2.0.1'])], [DB]);
    assert.equal(logged.slice(1), ['address history recorded again']);
    const intervals = intervalsOf(records(state));
    assert.equal(intervals.filter((i) => i.until === null).map((i) => i.address), ['192.168.1.1', '10.2.0.1']);
    assert.ok(intervals.filter((i) => i.address.startsWith('10.1.')).every((i) => i.until !== null && i.removedBy === 'found'));
  });
});

test('a read-only state directory: one line, nothing throws', async () => {
  await withTmpfs((mnt) => {
    const state = join(mnt, 'state');
    mkdirSync(state, { mode: 0o700 });
    const { h, logged } = history(state);
    run(h, [outcome('in-sync', DB, ['192.168.1.1'])], [DB]);
    remount(mnt, 'ro');
    run(h, [outcome('in-sync', DB, ['192.168.1.2'])], [DB]);
    remount(mnt, 'rw');
    assert.equal(logged.length, 1);
    assert.match(logged[0] ?? '', /EROFS \(read-only file system\)$/);
  });
});

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
