/** The in-sync memo (src/adapters/decision-memo.ts): a decision comes back only for the very same files. */
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DecisionMemo, MEMO_FILE } from '../../src/adapters/decision-memo';

const t = suite('decision memo');
let dir: string;
let files: string[];
const LATER = () => BigInt(Date.now() + 10_000) * 1_000_000n; // every file has stood still long enough
const FACTS = 'uuid name -';

t.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-memo-'));
  chmodSync(dir, 0o700);
  files = ['a.xml', 'b.json'].map((n) => join(dir, n));
  for (const f of files) writeFileSync(f, `<${f}/>`);
});
t.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A run: looks `id` up, records `value` when it was not remembered, saves; what it found. */
function run(value: unknown, options: { nowNs?: () => bigint; build?: string } = {}): unknown {
  const memo = DecisionMemo.load(dir, { build: options.build ?? 'b1', nowNs: options.nowNs ?? LATER });
  if (!memo) throw new Error('no memo');
  const found = memo.lookup('id', files, FACTS);
  if (found.remembered === undefined && found.key !== undefined) memo.record('id', found.key, files, FACTS, value);
  memo.save(dir);
  return found.remembered?.value;
}

t('remembered for the same files, by the same build, with the same facts', () => {
  assert.is(run({ v: 1 }), undefined);
  assert.equal(run({ v: 2 }), { v: 1 });
  assert.equal(run({ v: 3 }), { v: 1 });
  assert.is(run({ v: 4 }, { build: 'b2' }), undefined, 'another build remembers nothing of this one');
  const other = DecisionMemo.load(dir, { build: 'b2', nowNs: LATER });
  if (!other) throw new Error('no memo');
  assert.is(other.lookup('id', files, 'uuid other-name -').remembered, undefined, 'other facts (a renamed domain)');
  assert.is((statSync(join(dir, MEMO_FILE)).mode & 0o777).toString(8), '600');
});

t('a file replaced by rename, or written in place with the same size, is not the same file', () => {
  run({ v: 1 });
  assert.equal(run({ v: 2 }), { v: 1 });
  const [a, b] = files as [string, string];
  writeFileSync(`${a}.new`, readFileSync(a));
  renameSync(`${a}.new`, a);
  assert.is(run({ v: 3 }), undefined, 'renamed over: a new inode');
  assert.equal(run({ v: 4 }), { v: 3 });
  const before = statSync(b, { bigint: true });
  writeFileSync(b, readFileSync(b, 'utf8').replace('<', '('));
  assert.is(statSync(b).size, Number(before.size));
  assert.is(run({ v: 5 }), undefined, 'written in place: its change time moved');
});

t('a decision from files that changed too recently is not remembered; a missing file never is', () => {
  assert.is(run({ v: 1 }, { nowNs: () => BigInt(Date.now()) * 1_000_000n }), undefined);
  assert.is(run({ v: 2 }, { nowNs: () => BigInt(Date.now()) * 1_000_000n }), undefined, 'just written: not settled');
  assert.is(run({ v: 3 }), undefined);
  assert.equal(run({ v: 4 }), { v: 3 });
  rmSync(files[1] as string);
  assert.is(run({ v: 5 }), undefined);
});

t('a file that changed between the look-up and the record is not remembered', () => {
  const memo = DecisionMemo.load(dir, { build: 'b1', nowNs: LATER });
  if (!memo) throw new Error('no memo');
  const { key } = memo.lookup('id', files, FACTS);
  if (key === undefined) throw new Error('no identity for the files');
  writeFileSync(files[0] as string, 'changed while it was read');
  memo.record('id', key, files, FACTS, { v: 1 });
  memo.save(dir);
  assert.is(run({ v: 2 }), undefined);
});

t('a memo file that is not ours, or not JSON, remembers nothing and is replaced', () => {
  writeFileSync(join(dir, MEMO_FILE), 'not json', { mode: 0o600 });
  assert.is(run({ v: 1 }), undefined);
  assert.equal(run({ v: 2 }), { v: 1 });
  chmodSync(join(dir, MEMO_FILE), 0o666);
  assert.is(run({ v: 3 }), undefined, 'writable by others: not trusted');
});

t("a remembered decision comes with the files' stats as just taken, in the order given (the caller's last file: its write time)", () => {
  run({ v: 1 });
  const memo = DecisionMemo.load(dir, { build: 'b1', nowNs: LATER });
  if (!memo) throw new Error('no memo');
  const now = files.map((f) => statSync(f, { bigint: true }));
  for (const found of [memo.peek('id', files, FACTS), memo.lookup('id', files, FACTS).remembered]) {
    assert.equal(found?.stats.map((s) => [s.ino, s.mtimeNs]), now.map((s) => [s.ino, s.mtimeNs]));
  }
});

t('peek answers as lookup does, but keeps nothing: a memo only peeked at forgets the domain when saved', () => {
  run({ v: 1 });
  const memo = DecisionMemo.load(dir, { build: 'b1', nowNs: LATER });
  if (!memo) throw new Error('no memo');
  assert.equal(memo.peek('id', files, FACTS)?.value, { v: 1 });
  assert.is(memo.peek('id', files, 'uuid other-name -'), undefined, 'other facts');
  assert.is(memo.peek('other-id', files, FACTS), undefined, 'another domain');
  memo.save(dir);
  assert.is(run({ v: 2 }), undefined, 'not looked up, so not kept');
  writeFileSync(files[0] as string, 'changed');
  const later = DecisionMemo.load(dir, { build: 'b1', nowNs: LATER });
  assert.is(later?.peek('id', files, FACTS), undefined, 'a file changed since');
});

t.run();
