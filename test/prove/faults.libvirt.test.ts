/**
 * Faults on a real private daemon (with the hook installed, the state directory a small tmpfs):
 * the daemon SIGKILLed during a reconcile of many domains and during a watch, then restarted;
 * virsh missing and hanging; the disk full while a cache file is written; the state directory
 * read-only; a reconcile SIGKILLed half way; cache files replaced during a run. After each one
 * (ProveDaemon.verify): every guest still runs and a stopped one starts, no torn cache file or
 * temp file, no guest lost any other metadata (nova's element minus ports, and foreign
 * metadata, in both definitions), and the next reconcile converges.
 *
 * PROVE_LONG=1 (npm run prove): more guests and rounds; PROVE_FAULT_GUESTS, PROVE_FAULT_ROUNDS.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { networkInfo } from '../support/nova-guest';
import { MetadataEvents, ProveDaemon, type CliResult, type Guest } from '../support/daemon-fixture';
import { evidence, knob } from './evidence';

const GUESTS = knob('PROVE_FAULT_GUESTS', 8, 24);
const ROUNDS = knob('PROVE_FAULT_ROUNDS', 1, 3);

const t = suite('prove: faults on a real daemon');
const p = new ProveDaemon();
let starter: Guest;
let round = 0;
const faults: Record<string, number> = {};
let verified = 0;
let repairedAfter = 0;

/** A config file that sends libvirt's calls through virsh, for the faults of virsh itself. */
const viaVirsh = join(p.scratch, 'via-virsh.conf');

function injected(name: string): void {
  faults[name] = (faults[name] ?? 0) + 1;
}

/** One clear line on stderr, no stack trace. */
function oneLine(r: CliResult, label: string): void {
  assert.match(r.stderr, /^nova-ipmeta: [^\n]+\n$/, `${label}: ${r.stderr}`);
  assert.not.match(r.stderr, /nova-ipmeta: internal error/, label);
}

/** Runs a reconcile child and SIGKILLs `victim` ('daemon' or the reconcile itself) after the k-th write. */
async function killMidRun(victim: 'daemon' | 'reconcile', k: number): Promise<{ code: number | null; signal: string | null; stderr: string; writes: number }> {
  const events = new MetadataEvents(p.d.uri);
  await sleep(300); // the event stream is connected
  const child = p.spawnCli(['reconcile']);
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  const first = await Promise.race([events.untilCount(k).then(() => 'kill' as const), exited.then(() => 'done' as const)]);
  if (first === 'kill') {
    if (victim === 'daemon') await p.killDaemon();
    else child.kill('SIGKILL');
  }
  const end = await exited;
  const writes = events.seen;
  events.close();
  if (victim === 'daemon') await p.d.restart();
  return { ...end, stderr, writes };
}

t.before(async () => {
  await p.start({ stateSizeKiB: 2048 });
  await p.addGuests(GUESTS, { prefix: 'instance-f', running: true });
  starter = (await p.addGuests(1, { prefix: 'instance-starter', running: false }))[0] as Guest;
  await p.hooksSettled();
  const r = p.cli(['reconcile']);
  assert.is(r.code, 0, r.stderr);
});

t.after(async () => {
  await p.stop();
});

t('faults, round after round: each one followed by the full check', async () => {
  for (round = 1; round <= ROUNDS; round++) {
    // 1. The daemon SIGKILLed during a reconcile of every guest, after a few writes, then restarted.
    p.bumpCaches(round * 10 + 1);
    const a = await killMidRun('daemon', 1 + (round % Math.max(GUESTS - 1, 1)));
    injected('daemon-killed-mid-reconcile');
    assert.ok(a.code === 3 || a.code === 0, `reconcile exit ${a.code} ${a.signal}: ${a.stderr}`);
    assert.not.match(a.stderr, /nova-ipmeta: internal error/);
    console.log(`  round ${round}: daemon killed after ${a.writes} writes; reconcile exited ${a.code}`);
    repairedAfter += await p.verify('daemon killed mid-reconcile', starter);
    verified++;

    // 2. The reconcile itself SIGKILLed half way (its lock must not outlive it).
    p.bumpCaches(round * 10 + 2);
    const b = await killMidRun('reconcile', Math.max(1, Math.floor(GUESTS / 2)));
    injected('reconcile-sigkilled-half-way');
    console.log(`  round ${round}: reconcile killed (${b.signal ?? `exit ${b.code}`}) after ${b.writes} writes`);
    repairedAfter += await p.verify('reconcile killed half way', starter);
    verified++;

    // 3. Cache files replaced (cache put, atomically) again and again during a run.
    p.bumpCaches(round * 10 + 3);
    const child = p.spawnCli(['reconcile']);
    let replaced = 0;
    const run = { running: true };
    const exited = new Promise<number | null>((resolve) => {
      child.on('exit', (code) => {
        run.running = false;
        resolve(code);
      });
    });
    while (run.running) {
      p.bumpCaches(round * 10 + 4 + (replaced % 2));
      replaced++;
      await sleep(20);
    }
    assert.is(await exited, 0);
    injected('cache-replaced-during-run');
    console.log(`  round ${round}: ${replaced} rounds of cache replacement (${replaced * GUESTS} files) during one reconcile`);
    repairedAfter += await p.verify('cache replaced during a run', starter);
    verified++;

    writeFileSync(viaVirsh, `[DEFAULT]\nstate_dir = ${p.state}\n[libvirt]\nclient = virsh\n`);
    // 4. virsh missing from PATH. Told to go through virsh ([libvirt] client = virsh): one clear
    //    line, exit 3, nothing written. By default the run needs no virsh at all: libvirt's own
    //    socket carries its calls, and it repairs.
    p.bumpCaches(round * 10 + 6);
    const before = await Promise.all(p.guests.map((g) => p.portsBoth(g)));
    const missing = p.cli(['reconcile'], { env: { ...process.env, PATH: '/nonexistent', NOVA_IPMETA_CONFIG: viaVirsh } });
    injected('virsh-missing');
    assert.is(missing.code, 3, missing.stderr);
    oneLine(missing, 'virsh missing');
    assert.match(missing.stderr, /virsh/);
    assert.equal(await Promise.all(p.guests.map((g) => p.portsBoth(g))), before, 'nothing written without virsh');
    const socketOnly = p.cli(['reconcile'], { env: { ...process.env, PATH: '/nonexistent' } });
    assert.is(socketOnly.code, 0, `virsh missing, libvirt's socket there: exit ${socketOnly.code}: ${socketOnly.stderr}`);
    repairedAfter += await p.verify('virsh missing', starter);
    verified++;

    // 5. virsh hanging, told to go through virsh: the per-call timeout (NOVA_IPMETA_LIBVIRT_TIMEOUT) ends the run.
    const fakeDir = join(p.scratch, 'hanging-bin');
    mkdirSync(fakeDir, { recursive: true });
    writeFileSync(join(fakeDir, 'virsh'), '#!/bin/sh\nexec sleep 600\n');
    chmodSync(join(fakeDir, 'virsh'), 0o755);
    p.bumpCaches(round * 10 + 7);
    const started = Date.now();
    const hung = p.cli(['reconcile'], { env: { ...process.env, PATH: `${fakeDir}:${process.env.PATH ?? ''}`, NOVA_IPMETA_LIBVIRT_TIMEOUT: '2', NOVA_IPMETA_CONFIG: viaVirsh }, timeoutMs: 120_000 });
    injected('virsh-hanging');
    assert.is(hung.code, 3, `hanging virsh: exit ${hung.code}: ${hung.stderr}`);
    oneLine(hung, 'virsh hanging');
    console.log(`  round ${round}: hanging virsh: reconcile gave up after ${Date.now() - started} ms: ${hung.stderr.trim()}`);
    repairedAfter += await p.verify('virsh hanging', starter);
    verified++;

    // 6. Disk full while a cache file is written: refused, the old file intact, no temp file left.
    //    Then on that full disk, a reconcile and the watcher still do their work (the run lock's
    //    pid cannot be written: it is only for a waiter's message).
    p.bumpCaches(round * 10 + 5);
    const g = p.guests[0] as Guest;
    const old = readFileSync(p.cache.path(g.uuid), 'utf8');
    const filler = join(p.state, 'filler');
    const fill = p.cli(['cache', 'list']); // the state directory exists and is readable
    assert.is(fill.code, 0, fill.stderr);
    try {
      writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
    } catch (err) {
      assert.is((err as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    const bigVifs = g.vifs.map((v) => ({ ...v, fixed: [...v.fixed, ...Array.from({ length: 100 }, (_, i) => `10.200.${round}.${i + 1}`)] }));
    const input = join(p.scratch, 'big.json');
    writeFileSync(input, networkInfo(bigVifs));
    const full = p.cli(['cache', 'put', g.uuid, input]);
    injected('disk-full-on-cache-put');
    assert.is(full.code, 3, `disk full: exit ${full.code}: ${full.stderr}`);
    oneLine(full, 'disk full');
    assert.match(full.stderr, /ENOSPC|space/);
    assert.is(readFileSync(p.cache.path(g.uuid), 'utf8'), old, 'the old cache file is intact');
    const onFull = p.cli(['reconcile']);
    injected('disk-full-under-reconcile');
    assert.is(onFull.code, 0, `reconcile on a full disk: exit ${onFull.code}: ${onFull.stderr}`);
    for (const x of p.guests) for (const got of await p.portsBoth(x)) assert.equal(got, p.expected(x), `${x.name}: ports written on a full disk`);
    // The watcher on the full disk: it repairs a guest whose ports libvirt lost meanwhile.
    const fullWatcher = p.spawnCli(['watch']);
    let fullLog = '';
    fullWatcher.stderr?.on('data', (b: Buffer) => (fullLog += b.toString()));
    try {
      await sleep(1500);
      const stripped = g.nova.replace(/nova:/g, '').replace(/ xmlns:nova="[^"]*"/, '').replace(/\n\s*/g, ' ');
      await p.d.virshOk('metadata', g.uuid, '--uri', g.ns, '--key', 'nova', '--set', stripped, '--live');
      injected('disk-full-under-watch');
      const deadline = Date.now() + 30_000;
      while (JSON.stringify(await p.portsBoth(g)) !== JSON.stringify([p.expected(g), p.expected(g)]) && Date.now() < deadline) await sleep(100);
      assert.equal(await p.portsBoth(g), [p.expected(g), p.expected(g)], `the watcher repaired ${g.name} on a full disk; log:\n${fullLog}`);
    } finally {
      fullWatcher.kill('SIGTERM');
      await new Promise((resolve) => fullWatcher.once('exit', resolve));
    }
    assert.is(fullWatcher.exitCode, 0, fullLog);
    assert.not.match(fullLog, /internal error/, fullLog);
    (await import('node:fs')).rmSync(filler);
    repairedAfter += await p.verify('disk full', starter);
    verified++;

    // 7. The state directory read-only (for root too: the tmpfs remounted ro, in every namespace).
    p.bumpCaches(round * 10 + 8);
    const ro = (await import('node:child_process')).spawnSync('mount', ['-o', 'remount,ro', p.state], { encoding: 'utf8' });
    assert.is(ro.status, 0, ro.stderr);
    let roRun: CliResult;
    try {
      roRun = p.cli(['reconcile']);
      injected('state-dir-read-only');
      // The guest start must work with the hook unable to write its state.
      const s = await p.d.virsh('start', starter.uuid);
      assert.is(s.code, 0, `guest start with a read-only state dir: ${s.stderr}`);
      await p.d.virshOk('destroy', starter.uuid);
      await p.hooksSettled();
    } finally {
      (await import('node:child_process')).spawnSync('mount', ['-o', 'remount,rw', p.state]);
    }
    // The cache is still readable and the lock still locks: reconcile keeps the ports true.
    assert.is(roRun.code, 0, `read-only state dir: exit ${roRun.code}: ${roRun.stderr}`);
    for (const x of p.guests) for (const got of await p.portsBoth(x)) assert.equal(got, p.expected(x), `${x.name}: ports written with a read-only state dir`);
    repairedAfter += await p.verify('state dir read-only', starter);
    verified++;

    // 8. The daemon SIGKILLed under a running watcher, then restarted: the watcher carries on.
    const watcher = p.spawnCli(['watch']);
    let wlog = '';
    watcher.stdout?.on('data', (b: Buffer) => (wlog += b.toString()));
    watcher.stderr?.on('data', (b: Buffer) => (wlog += b.toString()));
    try {
      await sleep(1500);
      await p.killDaemon();
      injected('daemon-killed-under-watch');
      await sleep(500);
      await p.d.restart();
      p.bumpCaches(round * 10 + 9);
      const deadline = Date.now() + 60_000;
      let pending = p.guests.filter((x) => x.running);
      while (pending.length && Date.now() < deadline) {
        const still: Guest[] = [];
        for (const x of pending) {
          const want = p.expected(x);
          if ((await p.portsBoth(x)).some((got) => JSON.stringify(got) !== JSON.stringify(want))) still.push(x);
        }
        pending = still;
        if (pending.length) await sleep(250);
      }
      assert.equal(pending.map((x) => x.name), [], `the watcher did not repair after the daemon came back; log:\n${wlog}`);
      assert.is(watcher.exitCode, null, `the watcher exited: ${wlog}`);
    } finally {
      watcher.kill('SIGTERM');
    }
    assert.not.match(wlog, /nova-ipmeta: internal error/, `the watcher's log:\n${wlog}`);
    repairedAfter += await p.verify('daemon killed under watch', starter);
    verified++;
  }
  const total = Object.values(faults).reduce((a, b) => a + b, 0);
  evidence('faults', {
    guests: GUESTS + 1,
    rounds: ROUNDS,
    faults_injected: total,
    kinds: Object.keys(faults).length,
    checks_after_faults: verified,
    guest_start_failures: 0,
    torn_files: 0,
    metadata_lost: 0,
    not_converged: 0,
    repaired_by_converging_run: repairedAfter,
  });
  console.log(`  faults: ${Object.entries(faults).map(([k, v]) => `${k} ${v}`).join(', ')}`);
});

t.run();
