/**
 * The address history's files on a real file system: appends, a torn last line (cut off by the
 * next writer, ignored by readers), rotation within its bound, the state file, the search, and a
 * writer killed with SIGKILL in the middle of a write, for real.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatRecord, parseRecord, type HistoryRecord } from '../../src/core/history';
import { parseIp } from '../../src/core/ip';
import type { Uuid } from '../../src/core/model';
import { HISTORY_DEFAULTS, historyConfig, HistoryLogWriter, LOG_FILE, readAllRecords, readHistoryState, scanHistory, STATE_FILE, writeHistoryState } from '../../src/adapters/history-log';

const tmp = mkdtempSync(join(tmpdir(), 'history-log-'));
let n = 0;
/** A fresh history directory inside a 0700 state directory. */
function freshDir(): string {
  const state = join(tmp, `state${n++}`);
  mkdirSync(state, { mode: 0o700 });
  return join(state, 'history');
}

const INSTANCE = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5' as Uuid;
const PORT = '567a4527-b0e4-4d0a-bcc2-71fda37897f7' as Uuid;
function record(i: number, event: HistoryRecord['event'] = 'added', time = new Date(Date.UTC(2026, 10, 30, 3, 0, i)).toISOString()): HistoryRecord {
  const ip = parseIp(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  if (!ip) throw new Error('ip');
  return { time, event, by: 'repair', domain: 'instance-0000002b', instance: INSTANCE, name: 'db-1', project: null, port: PORT, mac: null, address: ip.address, type: 'fixed', version: 4 };
}
const lines = (...records: HistoryRecord[]) => records.map(formatRecord).join('');
const NOW = new Date('2026-11-30T04:00:00Z');
const mode = (p: string) => statSync(p).mode & 0o7777;

function readAll(dir: string): { records: HistoryRecord[]; damaged: number; files: number } {
  const read = readAllRecords(dir);
  if (!read) throw new Error(`no history in ${dir}`);
  return read;
}

test('append: whole lines at the end, 0600 in a 0700 directory created on first use', () => {
  const dir = freshDir();
  const w = new HistoryLogWriter(dir, HISTORY_DEFAULTS.rotation);
  w.append(lines(record(1), record(2)), () => '', NOW);
  w.append(lines(record(3)), () => '', NOW);
  w.sync();
  w.close();
  assert.is(mode(dir), 0o700);
  assert.is(mode(join(dir, LOG_FILE)), 0o600);
  assert.is(readFileSync(join(dir, LOG_FILE), 'utf8'), lines(record(1), record(2), record(3)));
  // A second writer appends after the first.
  const again = new HistoryLogWriter(dir, HISTORY_DEFAULTS.rotation);
  again.append(lines(record(4)), () => '', NOW);
  again.close();
  assert.equal(readAll(dir).records.map((r) => r.address), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
});

test('a torn last line: readers ignore it, the next writer cuts it off before appending', () => {
  const dir = freshDir();
  const w = new HistoryLogWriter(dir, HISTORY_DEFAULTS.rotation);
  w.append(lines(record(1), record(2)), () => '', NOW);
  w.close();
  const log = join(dir, LOG_FILE);
  appendFileSync(log, formatRecord(record(3)).slice(0, 70));
  const read = readAll(dir);
  assert.equal(read.records.map((r) => r.address), ['10.0.0.1', '10.0.0.2']);
  assert.is(read.damaged, 0, 'a torn tail is not damage');
  const next = new HistoryLogWriter(dir, HISTORY_DEFAULTS.rotation);
  next.append(lines(record(4)), () => '', NOW);
  next.close();
  assert.is(readFileSync(log, 'utf8'), lines(record(1), record(2), record(4)));
  // A log that is one torn line only is emptied.
  writeFileSync(log, '{"time":"2026', { mode: 0o600 });
  new HistoryLogWriter(dir, HISTORY_DEFAULTS.rotation).append(lines(record(5)), () => '', NOW);
  assert.is(readFileSync(log, 'utf8'), lines(record(5)));
});

test('damaged lines are skipped and counted; lines without the needle are not even parsed', () => {
  const dir = freshDir();
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, LOG_FILE), `${lines(record(1))}{"time":"garbage"}\nnot json at all\n${lines(record(2))}`, { mode: 0o600 });
  const read = readAll(dir);
  assert.equal(read.records.map((r) => r.address), ['10.0.0.1', '10.0.0.2']);
  assert.is(read.damaged, 1);
  const hits: string[] = [];
  scanHistory(dir, Buffer.from('"address":"10.0.0.2"'), (line) => hits.push(line) > 0);
  assert.equal(hits, [lines(record(2)).trimEnd()]);
});

test('the search crosses read chunks and lines longer than them', () => {
  const dir = freshDir();
  mkdirSync(dir, { mode: 0o700 });
  // 40000 records (about 9 MB, more than one 8 MiB read), then a 20 MB line of garbage, then a record.
  const many = Array.from({ length: 40_000 }, (_, i) => formatRecord(record(i))).join('');
  writeFileSync(join(dir, LOG_FILE), `${many}${'x'.repeat(20 * 1024 * 1024)}\n${lines(record(70_000))}`, { mode: 0o600 });
  const find = (address: string) => {
    const hits: HistoryRecord[] = [];
    scanHistory(dir, Buffer.from(`"address":"${address}"`), (line) => {
      const r = parseRecord(line);
      if (r) hits.push(r);
      return r !== undefined;
    });
    return hits.map((r) => r.address);
  };
  for (const i of [0, 1, 30_000, 35_000, 39_999]) {
    const address = `10.0.${(i >> 8) & 255}.${i & 255}`;
    assert.equal(find(address), [address], address);
  }
  assert.equal(find('10.1.17.112'), ['10.1.17.112']);
  assert.is(readAll(dir).records.length, 40_001);
});

test('rotation by size keeps the bound: at most keep_files rotated files, each about max_file_size', () => {
  const dir = freshDir();
  const policy = { maxBytes: 2048, maxAgeMs: HISTORY_DEFAULTS.rotation.maxAgeMs, keep: 3 };
  const w = new HistoryLogWriter(dir, policy);
  const opening = lines({ ...record(0, 'held'), since: '2026-11-01T00:00:00.000Z' });
  for (let i = 1; i <= 200; i++) w.append(lines(record(i)), () => opening, NOW);
  w.close();
  const files = readdirSync(dir).sort();
  assert.equal(files, [LOG_FILE, `${LOG_FILE}.1`, `${LOG_FILE}.2`, `${LOG_FILE}.3`]);
  const batch = Buffer.byteLength(lines(record(200)));
  for (const f of files) assert.ok(statSync(join(dir, f)).size < policy.maxBytes + batch, `${f}: ${statSync(join(dir, f)).size} bytes`);
  for (const f of files) assert.is(mode(join(dir, f)), 0o600, f);
  // Each file opens with what was held; the newest records are all there, in order.
  for (const f of files) assert.ok(readFileSync(join(dir, f), 'utf8').startsWith(opening), f);
  const read = readAll(dir);
  assert.is(read.files, 4);
  const added = read.records.filter((r) => r.event === 'added').map((r) => Number(r.address.split('.')[3]));
  assert.equal(added, Array.from({ length: added.length }, (_, i) => 201 - added.length + i));
  // A smaller keep_files later: the extra files go at the next rotation.
  const fewer = new HistoryLogWriter(dir, { ...policy, keep: 1 });
  for (let i = 201; i <= 215; i++) fewer.append(lines(record(i)), () => opening, NOW);
  fewer.close();
  assert.equal(readdirSync(dir).sort(), [LOG_FILE, `${LOG_FILE}.1`]);
  // No rotated file at all: the log starts over.
  const none = new HistoryLogWriter(dir, { ...policy, keep: 0 });
  for (let i = 216; i <= 240; i++) none.append(lines(record(i)), () => opening, NOW);
  none.close();
  assert.equal(readdirSync(dir).sort(), [LOG_FILE]);
});

test('rotation by age: a log whose first record is older than max_file_age_days', () => {
  const dir = freshDir();
  const policy = { maxBytes: HISTORY_DEFAULTS.rotation.maxBytes, maxAgeMs: 86_400_000, keep: 2 };
  const w = new HistoryLogWriter(dir, policy);
  w.append(lines(record(1, 'added', '2026-11-28T00:00:00.000Z')), () => 'never\n', new Date('2026-11-28T00:00:00Z'));
  w.append(lines(record(2, 'added', '2026-11-28T12:00:00.000Z')), () => 'never\n', new Date('2026-11-28T12:00:00Z'));
  w.close();
  assert.equal(readdirSync(dir), [LOG_FILE]);
  const later = new HistoryLogWriter(dir, policy);
  later.append(lines(record(3, 'added', '2026-11-29T00:00:01.000Z')), () => '', new Date('2026-11-29T00:00:01Z'));
  later.close();
  assert.equal(readdirSync(dir).sort(), [LOG_FILE, `${LOG_FILE}.1`]);
  assert.is(readFileSync(join(dir, LOG_FILE), 'utf8'), lines(record(3, 'added', '2026-11-29T00:00:01.000Z')));
});

test('the state file: written atomically 0600, read back; absent: undefined; untrusted: refused', () => {
  const dir = freshDir();
  assert.is(readHistoryState(dir), undefined);
  writeHistoryState(dir, '{"version":1}\n');
  assert.is(readHistoryState(dir), '{"version":1}\n');
  assert.is(mode(join(dir, STATE_FILE)), 0o600);
  assert.equal(readdirSync(dir), [STATE_FILE]);
  chmodSync(join(dir, STATE_FILE), 0o666);
  assert.throws(() => readHistoryState(dir), /writable by group or others/);
  chmodSync(dir, 0o777);
  assert.throws(() => readHistoryState(dir), /writable by group or others/);
  assert.throws(() => scanHistory(dir, Buffer.from('x'), () => true), /writable by group or others/);
});

test('a log that is not a regular file of ours is refused, by reader and writer', () => {
  const dir = freshDir();
  mkdirSync(dir, { mode: 0o700 });
  mkdirSync(join(dir, LOG_FILE));
  assert.throws(() => { new HistoryLogWriter(dir, HISTORY_DEFAULTS.rotation).append('x\n', () => '', NOW); }, /not a regular file|EISDIR/);
  assert.throws(() => scanHistory(dir, Buffer.from('x'), () => true), /not a regular file/);
  assert.is(scanHistory(join(tmp, 'nowhere'), Buffer.from('x'), () => true), undefined);
});

test('config: [history] keys with defaults; bad values name the key', () => {
  const ini = (pairs: Record<string, string>) => new Map([['history', new Map(Object.entries(pairs))]]);
  assert.equal(historyConfig(new Map(), 'f'), HISTORY_DEFAULTS);
  assert.equal(historyConfig(ini({ enabled: 'no', max_file_size: '4M', max_file_age_days: '7', keep_files: '3' }), 'f'), {
    enabled: false,
    rotation: { maxBytes: 4 * 1024 * 1024, maxAgeMs: 7 * 86_400_000, keep: 3 },
  });
  assert.is(historyConfig(ini({ max_file_size: '512K' }), 'f').rotation.maxBytes, 512 * 1024);
  assert.is(historyConfig(ini({ max_file_size: '2048' }), 'f').rotation.maxBytes, 2048);
  for (const [key, value] of [['enabled', 'maybe'], ['max_file_size', '12 parsecs'], ['max_file_size', '10'], ['max_file_age_days', '0'], ['keep_files', '-1'], ['keep_files', '1.5']] as const) {
    assert.throws(() => historyConfig(ini({ [key]: value }), '/etc/nova-ipmeta/nova-ipmeta.conf'), (err: Error) => err.message.startsWith(`/etc/nova-ipmeta/nova-ipmeta.conf: [history] ${key}: "${value}" is not`), `${key} = ${value}`);
  }
});

// ---------------------------------------------------------------------------------------------
// SIGKILL in the middle of appending, for real: a child process appends big batches through the
// writer, in a loop, and is killed while it does. Linux stops a write(2) to a file at a page
// boundary when a fatal signal is pending, so a kill during a write leaves a torn last line.

const WRITER = fileURLToPath(new URL('../../src/adapters/history-log.ts', import.meta.url));
const CORE = fileURLToPath(new URL('../../src/core/history.ts', import.meta.url));

function appender(dir: string): ReturnType<typeof spawn> {
  const code = `
    Promise.all([import(${JSON.stringify(WRITER)}), import(${JSON.stringify(CORE)})]).then(([log, core]) => {
      const w = new log.HistoryLogWriter(${JSON.stringify(dir)}, { ...log.HISTORY_DEFAULTS.rotation, maxBytes: 2 ** 40 });
      const batch = (k) => Array.from({ length: 30000 }, (_, i) => core.formatRecord({ time: new Date().toISOString(), event: 'added', by: 'repair',
        domain: 'instance-' + k, instance: '${INSTANCE}', name: null, project: null, port: '${PORT}', mac: null,
        address: '10.0.' + ((i >> 8) & 255) + '.' + (i & 255), type: 'fixed', version: 4 })).join('');
      const text = batch(1);
      w.append(text, () => '', new Date());
      process.stdout.write('ready\\n');
      for (;;) w.append(text, () => '', new Date());
    });`;
  return spawn(process.execPath, ['--import', 'tsx', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}

test('a writer killed with SIGKILL mid-append leaves a readable log, and the next writer goes on cleanly', async () => {
  let torn = 0;
  let attempts = 0;
  for (; attempts < 20 && torn < 2; attempts++) {
    const dir = freshDir();
    const child = appender(dir);
    await new Promise<void>((resolve) => child.stdout?.once('data', () => { resolve(); }));
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const log = join(dir, LOG_FILE);
    const text = readFileSync(log);
    if (text.length > 0 && text[text.length - 1] !== 0x0a) torn++;
    const before = readAll(dir);
    assert.is(before.damaged, 0, 'every whole line is a record');
    assert.ok(before.records.length > 0, 'the child wrote');
    assert.is(before.records.length, text.subarray(0, text.lastIndexOf(0x0a) + 1).toString('utf8').split('\n').length - 1);
    const w = new HistoryLogWriter(dir, HISTORY_DEFAULTS.rotation);
    w.append(lines(record(9)), () => '', NOW);
    w.close();
    const after = readAll(dir);
    assert.is(after.damaged, 0);
    assert.equal(after.records.at(-1), record(9));
    assert.is(after.records.length, before.records.length + 1);
  }
  process.stderr.write(`SIGKILL: ${torn} torn of ${attempts}\n`);
  assert.ok(torn > 0, `a kill landed inside a write at least once (${attempts} tries)`);
});

test('a log cut by a crash at any byte reads as its whole lines', () => {
  const dir = freshDir();
  mkdirSync(dir, { mode: 0o700 });
  const text = lines(record(1), record(2), record(3));
  const log = join(dir, LOG_FILE);
  for (let cut = 0; cut <= text.length; cut += 7) {
    writeFileSync(log, text, { mode: 0o600 });
    truncateSync(log, cut);
    const whole = text.slice(0, cut).split('\n').length - 1;
    assert.is(readAll(dir).records.length, whole, `cut at ${cut}`);
  }
  assert.ok(existsSync(log));
});

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
