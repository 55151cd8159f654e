/**
 * find's index of libvirt's files (src/adapters/find-index.ts): it names files only while both
 * directories are as when every file was indexed, and gives back what a file held only for the
 * very same file.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FIND_INDEX_FILE, FindIndex, type IndexedFile } from '../../src/adapters/find-index';
import type { Definition, Uuid } from '../../src/core/model';

const t = suite('find index');
const LATER = () => Date.now() + 10_000; // every file has stood still long enough
const NOW = () => Date.now();
const DB = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5' as Uuid;
const APP = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' as Uuid;
/** What each file holds, as the scan would learn it. */
const HELD: Record<string, IndexedFile> = {
  'live/db.xml': { uuid: DB, keys: [`u ${DB}`, 'a 192.168.1.1', 't db-1'] },
  'persistent/app.xml': { uuid: APP, keys: [`u ${APP}`, 'a 10.0.0.7', 't "a 10.0.0.9'] },
  'persistent/caps.xml': null,
};

let root: string;
let state: string;
let dirs: { live: string; persistent: string };

t.before.each(() => {
  root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-find-index-'));
  dirs = { live: join(root, 'live'), persistent: join(root, 'persistent') };
  state = join(root, 'state');
  for (const d of [dirs.live, dirs.persistent, state]) mkdirSync(d, { mode: 0o700 });
  for (const f of Object.keys(HELD)) writeFileSync(join(root, f), `<${f}/>`);
});
t.after.each(() => {
  rmSync(root, { recursive: true, force: true });
});

/**
 * A find that scans through the index: looks at every file, learns those it reads from HELD (or
 * `held`), saves; which files it had to read.
 */
function scan(options: { nowMs?: () => number; build?: string; complete?: boolean; held?: Record<string, IndexedFile> } = {}): string[] {
  const index = load(options);
  const read: string[] = [];
  for (const f of Object.keys(HELD)) {
    const [definition, name] = f.split('/') as [Definition, string];
    const look = index.look(definition, name, join(root, f));
    if (look.kind === 'indexed') continue;
    read.push(f);
    // As the scan does: a file not yet settled is read, not learned, and the index is not whole.
    if (look.identity === undefined) index.partial();
    else index.learn(definition, name, look.identity, (options.held ?? HELD)[f] ?? null);
  }
  index.save(state, options.complete ?? true);
  return read;
}

function load(options: { nowMs?: () => number; build?: string } = {}, key = 'a 192.168.1.1'): FindIndex {
  const index = FindIndex.load(state, dirs, key, { build: options.build ?? 'b1', nowMs: options.nowMs ?? LATER });
  if (!index) throw new Error('no index');
  return index;
}

const holding = (key: string, options: { build?: string } = {}) => load(options, key).holding();
const header = () => JSON.parse(readFileSync(join(state, FIND_INDEX_FILE), 'utf8').split('\n')[0] ?? '') as { dirs: string | null };

t('whole once every file is indexed: names the files holding a word, and none for a word no file holds', () => {
  assert.is(holding('a 192.168.1.1'), undefined, 'no index yet');
  assert.equal(scan(), Object.keys(HELD), 'every file read once');
  assert.equal(holding('a 192.168.1.1'), [{ definition: 'live', name: 'db.xml', uuid: DB }]);
  assert.equal(holding(`u ${APP}`), [{ definition: 'persistent', name: 'app.xml', uuid: APP }]);
  assert.equal(holding('a 10.9.9.9'), []);
  // `"a 10.0.0.9"` is in app's line, inside another word (`t "a 10.0.0.9`): not that word.
  assert.equal(holding('a 10.0.0.9'), []);
  assert.equal(scan(), [], 'nothing read again');
  assert.is(statSync(join(state, FIND_INDEX_FILE)).mode & 0o777, 0o600);
});

t('a file replaced by rename (as libvirt writes) or added: the directory changed, no answer from the index; the other files are not read again', () => {
  scan();
  writeFileSync(join(root, 'live/db.xml.new'), '<db changed/>');
  renameSync(join(root, 'live/db.xml.new'), join(root, 'live/db.xml'));
  assert.is(holding('a 192.168.1.1'), undefined);
  assert.equal(scan({ held: { ...HELD, 'live/db.xml': { uuid: DB, keys: ['a 192.168.1.2'] } } }), ['live/db.xml']);
  assert.equal(holding('a 192.168.1.2'), [{ definition: 'live', name: 'db.xml', uuid: DB }]);
  assert.equal(holding('a 192.168.1.1'), []);
});

t('a file written in place: read again where the scan looks (its change time moved), though its directory did not change', () => {
  scan();
  const path = join(root, 'persistent/app.xml');
  const before = readFileSync(path, 'utf8');
  writeFileSync(path, before.replace('app', 'APP'));
  assert.equal(scan(), ['persistent/app.xml']);
});

t('files that changed within the last two seconds are not indexed, and the index is not whole until they are', () => {
  assert.equal(scan({ nowMs: NOW }), Object.keys(HELD));
  assert.is(header().dirs, null);
  assert.is(holding('a 192.168.1.1'), undefined);
  assert.equal(scan({ nowMs: NOW }), Object.keys(HELD), 'still read: nothing was indexed');
  assert.equal(scan(), Object.keys(HELD));
  assert.ok(header().dirs);
});

t('not complete (files not provably the daemon\'s, a file skipped): nothing written', () => {
  assert.equal(scan({ complete: false }), Object.keys(HELD));
  assert.equal(scan({ complete: false }), Object.keys(HELD));
  assert.is(holding('a 192.168.1.1'), undefined);
});

t('partial (a symbolic link, a file that could not be read): the files are kept, the index is not whole', () => {
  const index = load();
  for (const f of Object.keys(HELD)) {
    const [definition, name] = f.split('/') as [Definition, string];
    const look = index.look(definition, name, join(root, f));
    if (look.kind === 'unknown' && look.identity !== undefined) index.learn(definition, name, look.identity, HELD[f] ?? null);
  }
  index.partial();
  index.save(state, true);
  assert.is(header().dirs, null);
  assert.equal(scan(), [], 'what it learned is kept');
  assert.ok(header().dirs);
});

t("another build's index, another pair of directories, or one that is not an index: empty, and replaced", () => {
  scan();
  assert.is(holding('a 192.168.1.1', { build: 'b2' }), undefined);
  assert.equal(scan({ build: 'b2' }), Object.keys(HELD));
  const other = { live: dirs.persistent, persistent: dirs.live };
  assert.is(FindIndex.load(state, other, 'a 192.168.1.1', { build: 'b2', nowMs: LATER })?.holding(), undefined);
  for (const garbage of ['', 'not json\n', '{"version":1}\n["live"]\n', `${readFileSync(join(state, FIND_INDEX_FILE), 'utf8').split('\n')[0]}\n["live","db.xml"\n`]) {
    writeFileSync(join(state, FIND_INDEX_FILE), garbage);
    assert.is(FindIndex.load(state, dirs, 'a 192.168.1.1', { build: 'b2', nowMs: LATER })?.holding(), undefined, JSON.stringify(garbage));
  }
  assert.equal(scan({ build: 'b2' }), Object.keys(HELD));
  assert.equal(holding('a 192.168.1.1', { build: 'b2' }), [{ definition: 'live', name: 'db.xml', uuid: DB }]);
  // A line naming a path elsewhere (only a hand could write one): no answer, not a read elsewhere.
  const text = readFileSync(join(state, FIND_INDEX_FILE), 'utf8');
  const [head = '', ...lines] = text.split('\n');
  const body = lines.join('\n').replace('"db.xml"', '"../../etc/db.xml"');
  writeFileSync(join(state, FIND_INDEX_FILE), `${head.replace(/"bytes":\d+/, `"bytes":${Buffer.byteLength(body)}`)}\n${body}`);
  assert.is(holding('a 192.168.1.1', { build: 'b2' }), undefined);
});

t('no state directory, or one others could write to: no index (nothing to write it to)', () => {
  rmSync(state, { recursive: true });
  assert.is(FindIndex.load(state, dirs, 'a 192.168.1.1', { build: 'b1' }), undefined);
  mkdirSync(state, { mode: 0o700 });
  scan();
  chmodSync(state, 0o777);
  assert.is(FindIndex.load(state, dirs, 'a 192.168.1.1', { build: 'b1' }), undefined);
});

t('an index file others could have written: not used, and replaced by the next find', () => {
  scan({ nowMs: LATER });
  chmodSync(join(state, FIND_INDEX_FILE), 0o666);
  // Not used: nothing is named from it, and every file is read again.
  assert.is(holding('a 192.168.1.1'), undefined);
  assert.equal(scan({ nowMs: LATER }), Object.keys(HELD));
  // Replaced, private again, and used.
  assert.is(statSync(join(state, FIND_INDEX_FILE)).mode & 0o777, 0o600);
  assert.equal(holding('a 192.168.1.1'), [{ definition: 'live', name: 'db.xml', uuid: DB }]);
});

t.run();
