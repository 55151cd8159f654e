/** The cache directory watch on real files: CacheStore's temp + rename, removal, a lost directory. */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheStore } from '../../../src/adapters/cache-store';
import { watchCacheSource } from '../../../src/usecases/watch/cache-source';
import { fixturePath } from '../../support/cli';

const UUID = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
const OTHER = '11111111-2222-4333-8444-555555555555';
const networkInfo = readFileSync(fixturePath('network_info/two-ports.json'), 'utf8');

const t = suite('cache directory watch');
let root: string;
let cache: CacheStore;
let changes: string[];
let logged: string[];
let restarts: number;
let stop: AbortController;

/** Lets inotify's events reach the callback. */
const settle = () => new Promise((r) => setTimeout(r, 100));

t.before.each(() => {
  root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-cache-watch-'));
  cache = new CacheStore(join(root, 'state', 'network_info'));
  mkdirSync(join(root, 'state'), { mode: 0o700 });
  mkdirSync(cache.dir, { mode: 0o700 });
  changes = [];
  logged = [];
  restarts = 0;
  stop = new AbortController();
  watchCacheSource({
    dir: cache.dir,
    onChange: (u) => changes.push(u),
    onRestarted: () => restarts++,
    log: (line) => logged.push(line),
    retryMs: 200,
    signal: stop.signal,
  });
});

t.after.each(() => {
  stop.abort();
  rmSync(root, { recursive: true, force: true });
});

t('a put (temp file + rename) names only the instance, never the temp file', async () => {
  cache.put(UUID, networkInfo);
  await settle();
  assert.ok(changes.length >= 1);
  assert.ok(changes.every((u) => u === UUID), changes.join(' '));
  assert.equal(logged, []);
});

t('a removal and a file written in place are changes too; other names are not', async () => {
  cache.put(UUID, networkInfo);
  await settle();
  changes = [];
  cache.rm(UUID);
  writeFileSync(join(cache.dir, `${OTHER}.json`), networkInfo);
  writeFileSync(join(cache.dir, 'README'), 'x');
  await settle();
  assert.equal([...new Set(changes)].sort(), [OTHER, UUID].sort());
  assert.equal(logged, []);
});

t('the directory removed: lost once, said once, then watched again (recreated) and a restart reported', async () => {
  rmSync(cache.dir, { recursive: true });
  await settle();
  assert.is(logged.length, 1, logged.join(' | '));
  assert.match(logged[0] ?? '', /removed or replaced; retrying in 0.2 s/);
  assert.equal(changes, []);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(restarts, 1);
  cache.put(UUID, networkInfo);
  await settle();
  assert.ok(changes.includes(UUID), 'the new directory is watched');
});

t('the directory renamed away: lost', async () => {
  renameSync(cache.dir, join(root, 'state', 'moved'));
  await settle();
  assert.is(logged.length, 1);
});

t('abort: nothing reported afterwards', async () => {
  stop.abort();
  cache.put(UUID, networkInfo);
  await settle();
  assert.equal(changes, []);
});

t.run();
