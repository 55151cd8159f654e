/**
 * The address history on a real private libvirt daemon with QEMU guests: addresses change the way
 * they do on a compute host (a cache put then a reconcile, nova writing its own element, an
 * instance undefined, the watcher running), and `history` (the built bundle) answers who held
 * what, when. Also: a state directory on a full disk, where reconcile still does its work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE, runBundle } from '../support/cli';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../support/libvirt';
import { cachePut as putCache, makeVif, novaInstance, NS_1_1, type TestVif } from '../support/nova-guest';
import { expectedPorts, portsOf } from '../support/ports-of';
import { fillUp, withTmpfs } from '../support/tmpfs';

interface Guest {
  name: string;
  display: string;
  uuid: string;
  vifs: TestVif[];
}

interface Row {
  domain: string;
  instanceId: string;
  name: string | null;
  portId: string;
  mac: string | null;
  address: string;
  type: string;
  from: string;
  until: string | null;
  addedBy: string;
  removedBy: string | null;
}

const t = suite('address history on a real daemon');
let d: PrivateLibvirt;
let work: string;
let state: string;

const FIP = '203.0.113.25';
const a: Guest = { name: 'instance-00000031', display: 'abuse-a', uuid: randomUUID(), vifs: [makeVif({ floating: [FIP] })] };
const b: Guest = { name: 'instance-00000032', display: 'abuse-b', uuid: randomUUID(), vifs: [makeVif(), makeVif()] };

const cli = (...args: string[]) => runBundle([...args, '--connect', d.uri, '--state-dir', state]);
const cachePut = (g: Guest, vifs = g.vifs) => {
  putCache(cli, g.uuid, vifs, state);
};

function history(...args: string[]): Row[] {
  const r = cli('history', ...args, '--json');
  assert.ok(r.code === 0 || r.code === 1, `history ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Row[];
}

function reconcile(...args: string[]): void {
  const r = cli('reconcile', ...args);
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.is(r.stderr, '');
}

/** A moment strictly between what happened before and what happens after it. */
async function mark(): Promise<string> {
  await new Promise((r) => setTimeout(r, 1100));
  const at = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 1100));
  return at;
}

t.before(async () => {
  d = await startPrivateLibvirt();
  cleanupOnExit(d);
  work = mkdtempSync(join(tmpdir(), 'history-libvirt-'));
  state = join(work, 'state');
  mkdirSync(state, { mode: 0o700 });
  for (const g of [a, b]) {
    const file = join(work, `${g.uuid}.xml`);
    writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: g.vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata: novaInstance({ ns: NS_1_1, name: g.display }) }));
    await d.virshOk('define', file);
    await d.virshOk('start', g.uuid);
  }
});

t.after(async () => {
  await d.stop();
  rmSync(work, { recursive: true, force: true });
});

let seeded = '';
let moved = '';

t('the first reconcile seeds the history; a second one, with nothing changed, writes nothing', () => {
  cachePut(a);
  cachePut(b, b.vifs.slice(0, 1));
  reconcile();
  const log = join(state, 'history', 'addresses.jsonl');
  const text = readFileSync(log, 'utf8');
  const addresses = [...a.vifs, b.vifs[0] as TestVif].reduce((n, v) => n + v.fixed.length + v.floating.length, 0);
  assert.is(text.split('\n').length - 1, addresses);
  const rows = history(FIP);
  assert.equal(rows.map((r) => [r.domain, r.name, r.portId, r.mac, r.type, r.until, r.addedBy]), [[a.name, 'abuse-a', a.vifs[0]?.id, a.vifs[0]?.mac, 'floating', null, 'seed']]);
  seeded = rows[0]?.from ?? '';
  reconcile();
  assert.is(readFileSync(log, 'utf8'), text);
});

t('a floating IP moves from one instance to another (cache put, reconcile): two intervals, and --at tells them apart', async () => {
  const before = await mark();
  const vifA = a.vifs[0] as TestVif;
  const vifB = b.vifs[0] as TestVif;
  a.vifs = [{ ...vifA, floating: [] }];
  b.vifs = [{ ...vifB, floating: [FIP] }, ...b.vifs.slice(1)];
  cachePut(a);
  cachePut(b, b.vifs.slice(0, 1));
  reconcile('--domain', a.name);
  reconcile('--domain', b.uuid);
  assert.ok(portsOf(await d.virshOk('dumpxml', b.uuid))?.some((p) => p.includes(FIP)), 'libvirt has it on b');
  const after = await mark();
  const rows = history(FIP);
  assert.equal(rows.map((r) => [r.domain, r.addedBy, r.removedBy, r.until === null]), [
    [a.name, 'seed', 'repair', false],
    [b.name, 'repair', null, true],
  ]);
  moved = rows[1]?.from ?? '';
  assert.ok(seeded < before && before < moved && moved < after, `${seeded} < ${before} < ${moved} < ${after}`);
  assert.equal(history(FIP, '--at', before).map((r) => r.domain), [a.name]);
  assert.equal(history(FIP, '--at', after).map((r) => r.domain), [b.name]);
  assert.equal(history(FIP, '--since', after).map((r) => r.domain), [b.name]);
  assert.equal(history(FIP, '--until', before).map((r) => r.domain), [a.name]);
  // By port and by MAC: the port's addresses, each with its own interval.
  assert.equal(history(vifB.mac).map((r) => [r.address, r.until === null]), [...vifB.fixed.map((f) => [f, true]), [FIP, true]]);
  assert.equal(history(vifA.id).filter((r) => r.address === FIP).map((r) => r.until === null), [false]);
});

t("nova's own write is found: a port nova wrote that the cache lacks, kept while its interface is there", async () => {
  const nova = b.vifs[1] as TestVif;
  const element = novaInstance({ ns: NS_1_1, name: b.display, novaPorts: [nova] }).replace(/nova:/g, '').replace(/ xmlns:nova="[^"]*"/, '').replace(/\n\s*/g, '');
  // nova rebuilds its element: its own port (fixed IPs only), ours dropped; live definition only.
  await d.virshOk('metadata', b.uuid, '--uri', NS_1_1, '--key', 'nova', '--set', element, '--live');
  reconcile();
  assert.equal(portsOf(await d.virshOk('dumpxml', b.uuid)), expectedPorts([b.vifs[0] as TestVif, nova]));
  const rows = history(nova.id);
  assert.equal(rows.map((r) => [r.domain, r.address, r.addedBy, r.until]), nova.fixed.map((f) => [b.name, f, 'found', null]));
  // Ours was written back by the same run: the floating IP never left b.
  assert.equal(history(FIP).map((r) => [r.domain, r.until === null]), [[a.name, false], [b.name, true]]);
});

t('an instance undefined: the next run over every domain records it gone', async () => {
  await d.virshOk('destroy', a.uuid);
  await d.virshOk('undefine', a.uuid);
  reconcile();
  const vifA = a.vifs[0] as TestVif;
  const rows = history(vifA.fixed[0] ?? '');
  assert.equal(rows.map((r) => [r.domain, r.removedBy, r.until !== null]), [[a.name, 'gone', true]]);
  const r = cli('history', vifA.fixed[0] ?? '', '--at', 'now');
  assert.is(r.code, 1);
  assert.match(r.stderr, `no instance held ${vifA.fixed[0] ?? ''} on this host at `);
});

t('the watcher records what it repairs, and an instance undefined while it runs', async () => {
  const watcher: ChildProcess = spawn(process.execPath, [BUNDLE, 'watch', '--connect', d.uri, '--state-dir', state], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  watcher.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const waitFor = async (what: string, probe: () => boolean) => {
    const deadline = Date.now() + 30_000;
    while (!probe()) {
      if (Date.now() > deadline) assert.unreachable(`${what}: not within 30 s; watcher log:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitFor('the startup run', () => log.includes('all domains reconciled (startup)'));
    const vifB = b.vifs[0] as TestVif;
    b.vifs = [{ ...vifB, floating: [FIP, '203.0.113.26'] }, ...b.vifs.slice(1)];
    cachePut(b, b.vifs.slice(0, 1));
    await waitFor('the new floating IP in the history', () => history('203.0.113.26').length === 1);
    assert.equal(history('203.0.113.26').map((r) => [r.domain, r.addedBy, r.until]), [[b.name, 'repair', null]]);
    await d.virshOk('destroy', b.uuid);
    await d.virshOk('undefine', b.uuid);
    await waitFor('b gone from the history', () => history(FIP).every((r) => r.until !== null));
    assert.equal(history(FIP).map((r) => [r.domain, r.removedBy]), [[a.name, 'repair'], [b.name, 'gone']]);
  } finally {
    watcher.kill('SIGTERM');
    await new Promise((r) => watcher.once('exit', r));
  }
});

t('a state directory on a full disk: reconcile repairs, exits 0, and says in one line that the history was not recorded', async () => {
  const g: Guest = { name: 'instance-00000033', display: 'full-disk', uuid: randomUUID(), vifs: [makeVif({ floating: ['203.0.113.27'] })] };
  const file = join(work, `${g.uuid}.xml`);
  writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: g.vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata: novaInstance({ ns: NS_1_1, name: g.display }) }));
  await d.virshOk('define', file);
  await withTmpfs(async (mnt) => {
    const full = join(mnt, 'state');
    mkdirSync(full, { mode: 0o700 });
    putCache((...args: string[]) => runBundle([...args, '--connect', d.uri, '--state-dir', full]), g.uuid, g.vifs, work);
    // The lock file exists before the disk fills (a fresh one would need no room either, but this is the host's case).
    writeFileSync(join(full, 'reconcile.lock'), '', { mode: 0o600 });
    fillUp(mnt);
    const r = runBundle(['reconcile', '--domain', g.name, '--connect', d.uri, '--state-dir', full]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^repaired {6}instance-00000033/);
    assert.match(r.stderr, /^nova-ipmeta: warning: address history not recorded: cannot [^\n]*ENOSPC \(no space left on device\)\n$/);
    assert.equal(portsOf(await d.virshOk('dumpxml', '--inactive', g.uuid)), expectedPorts(g.vifs));
  });
});

t.run();
