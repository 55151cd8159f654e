/** CacheStore: validated, private, atomic; every problem one line; reads create nothing. */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheStore } from '../../src/adapters/cache-store';
import { InputError, SystemError } from '../../src/errors';
import type { Uuid } from '../../src/core/model';
import { fixture, macOf, portId, vifJson } from '../support/builders';
import { fillUp, withTmpfs } from '../support/tmpfs';

const UUID = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
const OTHER = '11111111-2222-4333-8444-555555555555';
const TWO_PORTS = fixture('network_info/two-ports.json');

const tmp = mkdtempSync(join(tmpdir(), 'cache-store-'));
let n = 0;
/** A store whose state directory does not exist yet. */
function freshStore(): { state: string; store: CacheStore } {
  const state = join(tmp, `state${n++}`);
  return { state, store: new CacheStore(join(state, 'network_info')) };
}
const mode = (p: string) => statSync(p).mode & 0o7777;

/** A valid network_info with `ports` ports, each with one address in 10.<k>.0.0/16. */
function doc(k: number, ports: number): string {
  const vifs = Array.from({ length: ports }, (_, i) => vifJson(portId(i + 1), macOf(i + 1), [[{ address: `10.${k}.0.${i + 1}` }]]));
  return JSON.stringify(vifs, null, k % 3);
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    assert.instance(err, Error);
    assert.not.match((err as Error).message, '\n');
    return err as Error;
  }
  assert.unreachable('did not throw');
  throw new Error('unreachable');
}

test('put creates the state and cache directories 0700 and the file 0600, stored as given', () => {
  const { state, store } = freshStore();
  const vifs = store.put(UUID.toUpperCase(), TWO_PORTS, 'two-ports.json');
  assert.is(vifs.length, 2);
  assert.is(mode(state), 0o700);
  assert.is(mode(store.dir), 0o700);
  const file = join(store.dir, `${UUID}.json`);
  assert.is(mode(file), 0o600);
  assert.is(readFileSync(file, 'utf8'), TWO_PORTS);
  const got = store.get(UUID);
  assert.is(got?.text, TWO_PORTS);
  assert.equal(got?.vifs, vifs);
  assert.instance(got?.mtime, Date);
});

test('reads create nothing: no state directory means no cache, cleanly', () => {
  const { state, store } = freshStore();
  assert.equal(store.read(UUID), { kind: 'missing' });
  assert.is(store.get(UUID), undefined);
  assert.equal(store.list(), []);
  assert.is(store.rm(UUID), false);
  assert.not.ok(existsSync(state));
});

test('put refuses invalid network_info with the JSON path, and keeps the old file', () => {
  const { store } = freshStore();
  store.put(UUID, TWO_PORTS);
  const bad = JSON.stringify([{ id: portId(1), address: macOf(1), network: { subnets: [{ ips: [{ address: '10.0.0.999' }] }] } }]);
  const err = thrown(() => store.put(UUID, bad, 'bad.json'));
  assert.instance(err, InputError);
  assert.is(err.message, 'bad.json: [0].network.subnets[0].ips[0].address: "10.0.0.999" is not an IP address');
  assert.is(thrown(() => store.put(UUID, '[', 'stdin')).message.startsWith('stdin: not JSON: '), true);
  assert.is(store.get(UUID)?.text, TWO_PORTS);
  assert.equal(readdirSync(store.dir), [`${UUID}.json`]);
});

test('a UUID is validated before any path is built: no traversal', () => {
  const { state, store } = freshStore();
  for (const bad of ['../../etc/passwd', `${UUID}/../x`, '', `${UUID}.json`]) {
    const err = thrown(() => store.put(bad, TWO_PORTS));
    assert.instance(err, InputError);
    assert.match(err.message, /^instance UUID: ".*" is not a UUID$/);
    thrown(() => store.read(bad));
    thrown(() => store.rm(bad));
  }
  assert.not.ok(existsSync(state));
});

test('a cache file\'s path is path.join of the directory, however written, and the UUID', () => {
  for (const dir of ['/var/lib/nova-ipmeta/network_info', '/var/lib/nova-ipmeta/network_info/', '/var//lib/./x/../network_info', 'network_info', './network_info/', '.', '', '/']) {
    assert.is(new CacheStore(dir).path(UUID), join(dir, `${UUID}.json`), JSON.stringify(dir));
  }
});

test('read: missing, ok, and invalid content as an InputError naming the file and JSON path', () => {
  const { store } = freshStore();
  store.put(OTHER, TWO_PORTS);
  assert.equal(store.read(UUID), { kind: 'missing' });
  const ok = store.read(OTHER);
  assert.is(ok.kind, 'ok');
  const file = join(store.dir, `${UUID}.json`);
  writeFileSync(file, '[{"id": 5}]', { mode: 0o600 });
  const r = store.read(UUID);
  assert.is(r.kind, 'invalid');
  if (r.kind !== 'invalid') return;
  assert.instance(r.error, InputError);
  assert.is(r.error.message, `${file}: [0].id: 5 is not a string`);
  assert.instance(thrown(() => store.get(UUID)), InputError);
});

test("a run's write times: the files it read and the ones it counted unread; a store of calls keeps none", () => {
  const { state } = freshStore();
  const run = new CacheStore(join(state, 'network_info'), { scope: 'run' });
  run.put(OTHER, TWO_PORTS);
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(run.path(OTHER), hourAgo, hourAgo);
  assert.equal(run.writeTimes(), [], 'nothing read yet');
  assert.is(run.read(OTHER).kind, 'ok');
  const unread = new Date(Date.now() - 7_200_000);
  run.countUnread(UUID as Uuid, unread);
  assert.equal(run.writeTimes().map((d) => Math.round(d.getTime() / 1000)).sort(), [unread, hourAgo].map((d) => Math.round(d.getTime() / 1000)).sort());
  const calls = new CacheStore(join(state, 'network_info'));
  assert.is(calls.read(OTHER).kind, 'ok');
  calls.countUnread(UUID as Uuid, unread);
  assert.equal(calls.writeTimes(), []);
});

test('a group- or other-writable directory is refused, on reads and on put', () => {
  const { state, store } = freshStore();
  store.put(UUID, TWO_PORTS);
  chmodSync(store.dir, 0o770);
  const msg = `${store.dir}: writable by group or others (mode 0770); run chmod 0700 ${store.dir}`;
  for (const call of [() => store.read(UUID), () => store.list(), () => store.put(UUID, TWO_PORTS), () => store.rm(UUID)]) {
    const err = thrown(call);
    assert.instance(err, SystemError);
    assert.is(err.message, msg);
  }
  chmodSync(store.dir, 0o700);
  chmodSync(state, 0o1777);
  assert.is(thrown(() => store.read(UUID)).message, `${state}: writable by group or others (mode 1777); run chmod 0700 ${state}`);
  chmodSync(state, 0o700);
  assert.is(store.read(UUID).kind, 'ok');
});

test('a writable or foreign-owned cache file is refused for that instance only', () => {
  const { store } = freshStore();
  store.put(UUID, TWO_PORTS);
  store.put(OTHER, TWO_PORTS);
  const file = join(store.dir, `${UUID}.json`);
  chmodSync(file, 0o620);
  const r = store.read(UUID);
  assert.is(r.kind, 'invalid');
  if (r.kind === 'invalid') {
    assert.instance(r.error, SystemError);
    assert.is(r.error.message, `${file}: writable by group or others (mode 0620); run chmod 0600 ${file}`);
  }
  assert.is(store.read(OTHER).kind, 'ok');
  chmodSync(file, 0o600);
  chownSync(file, 65534, 65534);
  assert.is(thrown(() => store.get(UUID)).message, `${file}: owned by uid 65534, not by root or the current user; run chown 0 ${file}`);
  chownSync(store.dir, 65534, 65534);
  assert.is(thrown(() => store.list()).message, `${store.dir}: owned by uid 65534, not by root or the current user; run chown 0 ${store.dir}`);
});

test('a symlink or a FIFO in place of a cache file is refused, without following or blocking', () => {
  const { store } = freshStore();
  store.put(OTHER, TWO_PORTS);
  const file = join(store.dir, `${UUID}.json`);
  symlinkSync(join(store.dir, `${OTHER}.json`), file);
  const link = store.read(UUID);
  assert.equal(link.kind === 'invalid' && link.error.message, `${file}: a symbolic link; a cache file must be a regular file`);
  rmSync(file);
  assert.is(spawnSync('mkfifo', ['-m', '0600', file]).status, 0);
  const fifo = store.read(UUID);
  assert.equal(fifo.kind === 'invalid' && fifo.error.message, `${file}: not a regular file`);
});

test('list: counts, age, invalid files with their error; other names and temp files ignored', () => {
  const { store } = freshStore();
  store.put(UUID, doc(1, 3));
  store.put(OTHER, TWO_PORTS);
  const bad = 'aaaaaaaa-2222-4333-8444-555555555555';
  writeFileSync(join(store.dir, `${bad}.json`), '{}', { mode: 0o600 });
  writeFileSync(join(store.dir, 'README'), 'x', { mode: 0o600 });
  writeFileSync(join(store.dir, `.${UUID}.json.0123456789ab.tmp`), '[', { mode: 0o600 });
  writeFileSync(join(store.dir, `${UUID}.json.bak`), '[', { mode: 0o600 });
  writeFileSync(join(store.dir, 'BBBBBBBB-2222-4333-8444-555555555555.json'), TWO_PORTS, { mode: 0o600 });
  const past = new Date(Date.now() - 3 * 3600 * 1000);
  utimesSync(join(store.dir, `${UUID}.json`), past, past);
  const list = store.list();
  assert.equal(
    list.map((e) => [e.uuid, e.error === undefined ? e.ports : null, e.error === undefined ? e.addresses : null, e.error ?? null]),
    [
      [OTHER, 2, 4, null],
      [UUID, 3, 3, null],
      [bad, null, null, `${join(store.dir, `${bad}.json`)}: {} is not a list of VIFs`],
      ['bbbbbbbb-2222-4333-8444-555555555555', null, null, 'BBBBBBBB-2222-4333-8444-555555555555.json: not a lower-case UUID name; rename it to bbbbbbbb-2222-4333-8444-555555555555.json'],
    ],
  );
  assert.is(list[1]?.mtime?.getTime(), past.getTime());
  // The instances by name alone (a run's orphans), the same ones list() names, sorted.
  assert.equal(store.uuids(), [...list.map((e) => e.uuid)].sort());
});

test('rm removes the file and reports whether there was one', () => {
  const { store } = freshStore();
  store.put(UUID, TWO_PORTS);
  assert.is(store.rm(UUID), true);
  assert.is(store.rm(UUID), false);
  assert.equal(store.read(UUID), { kind: 'missing' });
  assert.equal(readdirSync(store.dir), []);
});

test('disk full (ENOSPC) on put: clear error, old file intact, no temp left', async () => {
  await withTmpfs((mnt) => {
    const store = new CacheStore(join(mnt, 'state', 'network_info'));
    store.put(UUID, doc(1, 1));
    fillUp(mnt);
    const err = thrown(() => store.put(UUID, TWO_PORTS));
    assert.instance(err, SystemError);
    assert.is(err.message, `cannot write ${join(store.dir, `${UUID}.json`)}: ENOSPC (no space left on device)`);
    assert.is(store.get(UUID)?.text, doc(1, 1));
    assert.equal(readdirSync(store.dir), [`${UUID}.json`]);
  });
});

test('racing puts from several processes: every read parses, the last file is exactly one document', async () => {
  const { store } = freshStore();
  const writers = 4;
  const putsEach = 300;
  // Documents of very different sizes, so a torn or mixed file could not parse as any of them.
  const docs = Array.from({ length: writers }, (_, k) => doc(k, 1 + k * 5));
  const storeUrl = new URL('../../src/adapters/cache-store.ts', import.meta.url).href;
  const script = `
    const { CacheStore } = await import(${JSON.stringify(storeUrl)});
    const store = new CacheStore(process.argv[1]);
    const text = process.argv[2];
    for (let i = 0; i < ${putsEach}; i++) store.put(${JSON.stringify(UUID)}, text);
  `;
  const exits = docs.map(
    (text) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, store.dir, text], {
          cwd: fileURLToPath(new URL('../..', import.meta.url)),
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        child.on('close', resolve);
      }),
  );
  const race = { running: true };
  const finished = Promise.all(exits).finally(() => (race.running = false));
  // Failures are collected, not thrown, so the writers are always waited for.
  const failures: string[] = [];
  let seen = 0;
  while (race.running) {
    const r = store.read(UUID);
    if (r.kind === 'invalid') failures.push(r.error.message);
    else if (r.kind === 'ok' && !docs.includes(r.text)) failures.push(`a document nobody put: ${r.text.slice(0, 80)}`);
    else if (r.kind === 'ok') seen++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(await finished, docs.map(() => 0));
  assert.equal(failures.slice(0, 3), [], `${failures.length} reads failed during the race`);
  assert.ok(seen > 0, 'no read saw a document while the writers ran');
  const final = store.get(UUID);
  assert.ok(final !== undefined && docs.includes(final.text));
  assert.equal(readdirSync(store.dir), [`${UUID}.json`]);
});

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
