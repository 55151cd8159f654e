/**
 * The watcher in process, with real virsh processes on libvirt's test driver (no daemon: each virsh
 * has its own copy of the preset domains, so no events arrive) and on a socket nobody listens on:
 * the startup run, cache files as triggers, unknown domains, stopping through the AbortSignal, and
 * reconnect attempts with backoff.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheStore } from '../../../src/adapters/cache-store';
import { runWatch, type Tuning } from '../../../src/usecases/watch/watcher';
import { fixturePath } from '../../support/cli';

/** The test driver's one preset domain, `test`. */
const TEST_DOMAIN_UUID = '6695eb01-f6a4-8304-79aa-97f2502e193f';
const UNKNOWN_UUID = '11111111-2222-4333-8444-555555555555';
const networkInfo = readFileSync(fixturePath('network_info/two-ports.json'), 'utf8');
const FAST: Partial<Tuning> = { debounceMs: 20, settleMs: 200, backoffMinMs: 100, backoffMaxMs: 400 };

const t = suite('watch service (test driver)');
let root: string;

t.before.each(() => {
  root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-watch-service-'));
});
t.after.each(() => {
  rmSync(root, { recursive: true, force: true });
});

function start(uri: string, tuning: Partial<Tuning> = {}) {
  const lines: string[] = [];
  const controller = new AbortController();
  const stateDir = join(root, 'state');
  const done = runWatch({
    uri,
    client: 'auto',
    stateDir,
    cacheDir: join(stateDir, 'network_info'),
    log: (l) => lines.push(l),
    verbose: true,
    signal: controller.signal,
    tuning: { ...FAST, ...tuning },
  });
  const seen = async (re: RegExp) => {
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => re.test(l))) {
      if (Date.now() > deadline) assert.unreachable(`no log line ${String(re)} in:\n${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { lines, controller, done, seen, cache: new CacheStore(join(stateDir, 'network_info')) };
}

t('startup reconciles every domain, a cache file triggers its domain, an unknown UUID is skipped, abort stops', async () => {
  const w = start('test:///default');
  await w.seen(/^all domains reconciled \(startup\): 1 domain: 1 not-nova/);
  w.cache.put(TEST_DOMAIN_UUID, networkInfo);
  await w.seen(/^test: not-nova \(cache\)$/);
  w.cache.put(UNKNOWN_UUID, networkInfo);
  await w.seen(new RegExp(`^${UNKNOWN_UUID}: no such domain \\(cache\\)$`));
  w.controller.abort();
  await w.done;
  assert.is(w.lines.at(-1), 'stopped');
  assert.is(w.lines.filter((l) => l.includes('(cache)')).length, 2, 'one reconcile per put, however many inotify events it made');
});

t('no daemon: retries with a growing backoff, up to its maximum', async () => {
  // A virsh that fails to connect exits at once; one that took longer than settleMs would count as
  // connected and reset the backoff: on a busy machine that can take seconds, so settle late here.
  const w = start(`qemu:///system?socket=${join(root, 'nobody-listens')}`, { settleMs: 15_000 });
  await w.seen(/reconnecting in 0\.4 s$/);
  w.controller.abort();
  await w.done;
  const attempts = w.lines.filter((l) => l.startsWith('cannot open the event stream'));
  assert.equal(
    attempts.slice(0, 3).map((l) => /reconnecting in (.*)$/.exec(l)?.[1]),
    ['0.1 s', '0.2 s', '0.4 s'],
  );
  assert.match(attempts[0] ?? '', /status 1: error: .*nobody-listens/);
  assert.not.ok(w.lines.some((l) => l.startsWith('all domains')), 'no run without a daemon');
});

t('an abort during a long backoff stops at once, not when the backoff ends', async () => {
  const w = start(`qemu:///system?socket=${join(root, 'nobody-listens')}`, { backoffMinMs: 600_000 });
  await w.seen(/reconnecting in 600 s$/);
  w.controller.abort();
  const outcome = await Promise.race([w.done.then(() => 'stopped'), new Promise((r) => setTimeout(r, 30_000, 'still waiting').unref())]);
  assert.is(outcome, 'stopped');
  assert.is(w.lines.at(-1), 'stopped');
});

t.run();
