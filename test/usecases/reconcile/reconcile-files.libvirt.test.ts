/**
 * reconcile deciding from libvirt's own files (a private daemon, real QEMU guests): an in-sync
 * run costs the listing alone, and no file, stale, torn, foreign or from a guest's earlier run,
 * ever leads to a wrong write or a missed repair. What is checked is what libvirt holds
 * afterwards (dumpxml), and how many commands reached it.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../../support/libvirt';
import { runBundle, runBundleAsync } from '../../support/cli';
import { cachePut as putCache, makeVif, novaInstance, NS_1_1, type TestVif } from '../../support/nova-guest';
import { expectedPorts, portsOf } from '../../support/ports-of';
import { TransientDomains, type DomainRef, type Libvirt } from '../../../src/adapters/libvirt/libvirt';
import { openLibvirt } from '../../../src/adapters/libvirt/open';
import { matchListing, readDomainFiles } from '../../../src/adapters/current-domain-files';
import { CacheStore } from '../../../src/adapters/cache-store';
import { FromFiles, reconcileDomains } from '../../../src/usecases/reconcile/reconcile-run';

interface Guest {
  name: string;
  uuid: string;
  vifs: TestVif[];
}

interface Report {
  libvirtCommands: number;
  decidedFromFiles: number;
  rememberedInSync: number;
  filesNotUsed?: string;
  summary: Record<string, number>;
  domains: { domain: string; kind: string }[];
}

const t = suite('reconcile from libvirt files');
let d: PrivateLibvirt;
let state: string;

const withFiles = () => ['--connect', d.uri, '--state-dir', state, '--live-xml-dir', d.liveXmlDir, '--persistent-xml-dir', d.persistentXmlDir];
function reconcile(...args: string[]): Report {
  const r = runBundle(['reconcile', '--json', ...args, ...withFiles()]);
  assert.is(r.code, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout) as Report;
}
const kindOf = (r: Report, g: Guest) => r.domains.find((o) => o.domain === g.name)?.kind;

const guest = (name: string, n = 1): Guest => ({ name, uuid: randomUUID(), vifs: Array.from({ length: n }, () => makeVif({ floating: ['203.0.113.7'] })) });
async function define(g: Guest, start: boolean): Promise<void> {
  const file = join(d.root, `${g.uuid}.xml`);
  const metadata = novaInstance({ ns: NS_1_1, name: g.name, novaPorts: g.vifs });
  writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: g.vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata }));
  await d.virshOk('define', file);
  if (start) await d.virshOk('start', g.uuid);
  putCache((...a: string[]) => runBundle([...a, '--state-dir', state]), g.uuid, g.vifs, state);
}
const live = (g: Guest) => d.virshOk('dumpxml', g.uuid);
const config = (g: Guest) => d.virshOk('dumpxml', '--inactive', g.uuid);
const liveFile = (g: Guest) => join(d.liveXmlDir, `${g.name}.xml`);
const persistentFile = (g: Guest) => join(d.persistentXmlDir, `${g.name}.xml`);
/** nova rewriting its element as nova >= 23 does: fixed IPs only, and a name of its own choosing. */
async function novaOverwrite(g: Guest, name: string, where: '--live' | '--config'): Promise<void> {
  const element = novaInstance({ ns: NS_1_1, name, novaPorts: g.vifs }).replace(/nova:/g, '').replace(/ xmlns:nova="[^"]*"/, '').replace(/\n\s*/g, '');
  await d.virshOk('metadata', g.uuid, '--uri', NS_1_1, '--key', 'nova', '--set', element, where);
}

const running = guest('instance-000000a1');
const stopped = guest('instance-000000a2');
const other = guest('instance-000000a3');
const twoPorts = guest('instance-000000a4', 2);
const ALL = 4;

t.before(async () => {
  d = await startPrivateLibvirt();
  cleanupOnExit(d);
  state = mkdtempSync(join(tmpdir(), 'nova-ipmeta-state-'));
  await define(running, true);
  await define(stopped, false);
  await define(other, false);
  await define(twoPorts, false);
  const first = reconcile();
  assert.is(first.summary.repaired, ALL, JSON.stringify(first));
  assert.is(first.libvirtCommands, 1 + 3 + 3 * 2, 'per repair, the read before each write and one write for both definitions');
});

t.after(async () => {
  await d.stop();
  rmSync(state, { recursive: true, force: true });
});

t('in sync: decided from the files, the listing the one libvirt command', () => {
  const r = reconcile();
  assert.is(r.summary['in-sync'], ALL);
  assert.is(r.decidedFromFiles, ALL);
  assert.is(r.libvirtCommands, 1);
  assert.is(r.filesNotUsed, undefined);
});

t('in sync again: files that are the very files of an earlier in-sync decision are not read; a changed one is', async () => {
  // Files stand still two seconds before a decision from them is remembered (adapters/decision-memo.ts).
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  const first = reconcile();
  assert.is(first.summary['in-sync'], ALL);
  assert.is(first.rememberedInSync, 0);
  const historyFiles = () => ['current.json', 'addresses.jsonl'].map((f) => readFileSync(join(state, 'history', f), 'utf8'));
  const recorded = historyFiles();
  const second = reconcile();
  assert.is(second.summary['in-sync'], ALL);
  assert.is(second.rememberedInSync, ALL);
  assert.equal(historyFiles(), recorded, 'nothing to record, nothing written');
  assert.is(second.decidedFromFiles, ALL);
  assert.is(second.libvirtCommands, 1);
  assert.equal(second.domains, first.domains, 'the remembered decision is the decision');

  // nova rewrites one element, a cache file is put again unchanged (a new file): both read again.
  await novaOverwrite(stopped, 'drift-after-memo', '--config');
  putCache((...a: string[]) => runBundle([...a, '--state-dir', state]), other.uuid, other.vifs, state);
  const third = reconcile();
  assert.is(third.rememberedInSync, ALL - 2);
  assert.is(kindOf(third, stopped), 'repaired');
  assert.match(historyFiles()[0] ?? '', '"drift-after-memo"', "the history has the name nova gave meanwhile: the run's outcomes were observed");
  assert.is(kindOf(third, other), 'in-sync');
  assert.equal(portsOf(await config(stopped)), expectedPorts(stopped.vifs));
  assert.match(await config(stopped), /drift-after-memo/, "nova's own change is kept");
  // A dry run uses what is remembered and changes nothing.
  const dry = reconcile('--dry-run');
  assert.is(dry.rememberedInSync, ALL - 2);

  // A domain undefined while every other one is remembered: the history still records it gone.
  const extra = guest('instance-000000a5');
  await define(extra, false);
  assert.is(kindOf(reconcile(), extra), 'repaired');
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  reconcile();
  assert.is(reconcile().rememberedInSync, ALL + 1);
  assert.match(historyFiles()[0] ?? '', extra.uuid);
  await d.virshOk('undefine', extra.uuid);
  const gone = reconcile();
  assert.is(gone.rememberedInSync, ALL);
  assert.not.match(historyFiles()[0] ?? '', extra.uuid, 'no longer held by anyone');
  assert.ok((historyFiles()[1] ?? '').split('\n').some((l) => l.includes(extra.uuid) && l.includes('"by":"gone"')), 'recorded gone');
  assert.is(runBundle(['cache', 'rm', extra.uuid, '--state-dir', state]).code, 0);
});

t("the cache's age counts every domain's cache file, the remembered ones too (not read, unchanged since a run read them)", async () => {
  const prom = join(state, 'age.prom');
  const cacheAge = () => {
    const line = readFileSync(prom, 'utf8').split('\n').find((l) => l.startsWith('nova_ipmeta_cache_age_seconds '));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };
  // Every cache file written an hour ago; then they stand still until a run remembers them.
  const hourAgo = Date.now() / 1000 - 3600;
  for (const g of [running, stopped, other, twoPorts]) utimesSync(join(state, 'network_info', `${g.uuid}.json`), hourAgo, hourAgo);
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  reconcile();
  const remembered = reconcile('--textfile', prom);
  assert.is(remembered.rememberedInSync, ALL);
  assert.ok((cacheAge() ?? 0) >= 3600, `every cache file remembered: ${cacheAge()}`);
  // One put again now: read, the others remembered; the oldest is still an hour old.
  putCache((...a: string[]) => runBundle([...a, '--state-dir', state]), other.uuid, other.vifs, state);
  const mixed = reconcile('--textfile', prom);
  assert.is(mixed.rememberedInSync, ALL - 1);
  assert.ok((cacheAge() ?? 0) >= 3600, `one read, the rest remembered: ${cacheAge()}`);
});

/** A flock(1) of a reconcile waiting for the run lock of `state` (its fd 3 is the lock file). */
function waitingForLock(): boolean {
  const lock = join(state, 'reconcile.lock');
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--wait') && readlinkSync(`/proc/${pid}/fd/3`) === lock) return true;
    } catch {
      // gone meanwhile, or not ours to look at
    }
  }
  return false;
}

t('a run with nothing to write (a check, a dry run too) takes no lock; one with something waits for it, then lists the domains again', async () => {
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  reconcile();
  assert.is(reconcile().rememberedInSync, ALL);
  // Another run holds the lock (flock -o: the lock is flock's own, freed when it is killed).
  const holder = spawn('flock', ['-o', join(state, 'reconcile.lock'), 'sleep', '120'], { stdio: 'ignore', detached: true });
  const late = guest('instance-000000a6');
  const later = guest('instance-000000a7');
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const quiet = reconcile('--wait', '0');
    assert.is(quiet.rememberedInSync, ALL, 'decided as before, without the lock');
    assert.is(quiet.libvirtCommands, 1);
    // The monitoring check and a dry run alike: nothing to write, no lock needed.
    const check = runBundle(['reconcile', '--check', '--wait', '0', ...withFiles()]);
    assert.is(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^NOVA-IPMETA OK - /);
    assert.is(reconcile('--dry-run', '--wait', '0').rememberedInSync, ALL);

    await define(late, false);
    const busy = runBundle(['reconcile', '--json', '--wait', '0', ...withFiles()]);
    assert.is(busy.code, 3, 'a domain to repair: the lock is needed');
    assert.match(busy.stderr, /another reconcile holds the lock/);
    const busyCheck = runBundle(['reconcile', '--check', '--wait', '0', ...withFiles()]);
    assert.is(busyCheck.code, 3, 'a domain not remembered: the check needs the lock, UNKNOWN');
    assert.match(busyCheck.stdout, /^NOVA-IPMETA UNKNOWN - .*holds the lock/);
    assert.not.equal(portsOf(await config(late)), expectedPorts(late.vifs), 'nothing written without the lock');

    // A run that waits lists again once it has the lock: a domain defined meanwhile is repaired too.
    const waiting = runBundleAsync(['reconcile', '--json', '--wait', '60', ...withFiles()]);
    const deadline = Date.now() + 30_000;
    while (!waitingForLock()) {
      if (Date.now() > deadline) throw new Error('the run never waited for the lock');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await define(later, false);
    process.kill(-(holder.pid as number), 'SIGKILL');
    const r = await waiting;
    assert.is(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.is(kindOf(report, late), 'repaired');
    assert.is(kindOf(report, later), 'repaired', 'listed after the wait');
    assert.equal(portsOf(await config(later)), expectedPorts(later.vifs));
  } finally {
    if (holder.exitCode === null && holder.signalCode === null) process.kill(-(holder.pid as number), 'SIGKILL');
    for (const g of [late, later]) {
      await d.virsh('undefine', g.uuid);
      runBundle(['cache', 'rm', g.uuid, '--state-dir', state]);
    }
  }
});

t('without the directories (a daemon whose files are not visible) libvirt is asked, as before', () => {
  const r = runBundle(['reconcile', '--json', '--connect', d.uri, '--state-dir', state]);
  const report = JSON.parse(r.stdout) as Report;
  assert.is(report.summary['in-sync'], ALL);
  assert.is(report.decidedFromFiles, 0);
  assert.is(report.libvirtCommands, 1 + 2 + 1 + 1 + 1, 'the listing, then a dumpxml per definition');
});

t('drift that the files show is repaired through libvirt, on both definitions of a running guest', async () => {
  await novaOverwrite(running, 'renamed-by-nova', '--live');
  await novaOverwrite(running, 'renamed-by-nova', '--config');
  const r = reconcile();
  assert.is(kindOf(r, running), 'repaired');
  assert.is(r.decidedFromFiles, ALL - 1);
  assert.is(r.libvirtCommands, 1 + 2 + 1, 'the reads before the writes, one write for both definitions');
  for (const xml of [await live(running), await config(running)]) {
    assert.equal(portsOf(xml), expectedPorts(running.vifs));
    assert.match(xml, /renamed-by-nova/, "nova's own change is kept");
  }
});

t('a torn file (half written) is no decision: libvirt is asked and the repair made', async () => {
  await novaOverwrite(stopped, 'torn', '--config');
  const whole = readFileSync(persistentFile(stopped), 'utf8');
  writeFileSync(persistentFile(stopped), whole.slice(0, Math.floor(whole.length / 2)));
  const r = reconcile();
  assert.is(kindOf(r, stopped), 'repaired');
  assert.equal(portsOf(await config(stopped)), expectedPorts(stopped.vifs));
  assert.is(r.decidedFromFiles, ALL - 1, 'the other domains still from their files');
});

t('a stale file that shows drift libvirt no longer has: libvirt decides, nothing is written', async () => {
  const inSync = readFileSync(persistentFile(other), 'utf8');
  const before = await config(other);
  writeFileSync(persistentFile(other), inSync.replace(/<nova:ports>[\s\S]*<\/nova:ports>/, ''));
  const r = reconcile();
  assert.is(kindOf(r, other), 'in-sync');
  assert.is(r.summary.repaired, 0);
  assert.is(await config(other), before);
  writeFileSync(persistentFile(other), inSync);
});

t("a status file of the guest's earlier run (another ID) is not used", async () => {
  const earlier = readFileSync(liveFile(running), 'utf8');
  const id = /<domain [^>]*id='(\d+)'/.exec(earlier)?.[1];
  assert.ok(id, earlier.slice(0, 400));
  await novaOverwrite(running, 'after-restart', '--live');
  // The drift is in libvirt; the file says in sync, but names a run of the guest that is over.
  writeFileSync(liveFile(running), earlier.replace(`id='${id}'`, `id='${Number(id) + 1000}'`));
  const r = reconcile();
  assert.is(kindOf(r, running), 'repaired');
  assert.equal(portsOf(await live(running)), expectedPorts(running.vifs));
  assert.match(await live(running), /after-restart/);
});

t('a file of a domain libvirt does not list: the directories are not (only) its own, none is used', async () => {
  const ghost = join(d.persistentXmlDir, 'instance-0000ffff.xml');
  writeFileSync(ghost, readFileSync(persistentFile(other), 'utf8').replace(other.name, 'instance-0000ffff'));
  await novaOverwrite(other, 'drifted', '--config');
  const r = reconcile();
  rmSync(ghost);
  assert.match(r.filesNotUsed ?? '', /instance-0000ffff\.xml is not a file of a domain libvirt lists/);
  assert.is(r.decidedFromFiles, 0);
  assert.is(kindOf(r, other), 'repaired');
  assert.equal(portsOf(await config(other)), expectedPorts(other.vifs));
});

t("directories the running daemon does not keep: none is used, though they name every listed domain (a containerized daemon's shared /run beside the host's stale /etc/libvirt/qemu)", async () => {
  // libvirt's own definition drifted; the file is an earlier copy that still shows it in sync.
  const stale = readFileSync(persistentFile(other), 'utf8');
  await novaOverwrite(other, 'drifted-in-the-volume', '--config');
  writeFileSync(persistentFile(other), stale);
  // driver.pid names a daemon in a mount namespace of its own, whose directories are not these.
  const pidFile = join(d.liveXmlDir, 'driver.pid');
  const ownPid = readFileSync(pidFile, 'utf8');
  const bin = mkdtempSync(join(tmpdir(), 'nova-ipmeta-elsewhere-'));
  copyFileSync('/bin/sleep', join(bin, 'libvirtd'));
  const elsewhere = spawn('unshare', ['--mount', '--propagation', 'private', join(bin, 'libvirtd'), '600'], { stdio: 'ignore' });
  try {
    await new Promise((resolve, reject) => elsewhere.once('spawn', resolve).once('error', reject));
    // unshare execs the stand-in: its pid is then a libvirtd's, in another mount namespace.
    const until = Date.now() + 5_000;
    while (readFileSync(`/proc/${elsewhere.pid}/comm`, 'utf8').trim() !== 'libvirtd') {
      if (Date.now() > until) throw new Error('the stand-in never became libvirtd');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    writeFileSync(pidFile, `${elsewhere.pid}\n`);
    const r = reconcile();
    assert.is(kindOf(r, other), 'repaired');
    assert.equal(portsOf(await config(other)), expectedPorts(other.vifs));
    assert.match(await config(other), /drifted-in-the-volume/, "nova's own change is kept");
    assert.match(r.filesNotUsed ?? '', /driver\.pid names no running libvirt daemon that keeps/);
    assert.is(r.decidedFromFiles, 0);
  } finally {
    writeFileSync(pidFile, ownPid);
    elsewhere.kill('SIGKILL');
    rmSync(bin, { recursive: true, force: true });
  }
});

/**
 * The re-read guard: the files call for a write, and the domain changes between the file read and
 * libvirt's read before the write: nova rewrites its element, or an interface is detached (the
 * element unchanged, but a port written for it would be wrong). Either way what is written is what
 * libvirt's own read calls for: nova's change kept, no port for the interface that is gone.
 */
const changes = {
  'nova rewrites its element': async () => {
    await novaOverwrite(twoPorts, 'changed-meanwhile', '--config');
  },
  'an interface is detached': async () => {
    await d.virshOk('detach-interface', twoPorts.uuid, 'ethernet', '--mac', twoPorts.vifs[1]?.mac ?? '', '--config');
  },
};
for (const [change, make] of Object.entries(changes)) for (const client of ['auto', 'virsh'] as const) {
  t(`between the file read and the write, ${change}: libvirt's read decides what is written (client ${client})`, async () => {
    await novaOverwrite(twoPorts, 'drift', '--config');
    const files = readDomainFiles({ live: d.liveXmlDir, persistent: d.persistentXmlDir });
    const reads: string[] = [];
    const inner = await openLibvirt({ uri: d.uri, client });
    // libvirt's calls as they are, with `change` made right after the first read of twoPorts.
    const libvirt: Libvirt = {
      get calls() {
        return inner.calls;
      },
      listDomains: () => inner.listDomains(),
      transientUuids: () => inner.transientUuids(),
      setNovaMetadata: (...a) => inner.setNovaMetadata(...a),
      close: () => inner.close(),
      async dumpXml(ref: DomainRef, opts: { inactive: boolean }) {
        if (ref.uuid === twoPorts.uuid) {
          reads.push(`dumpxml ${ref.uuid}${opts.inactive ? ' --inactive' : ''}`);
          if (reads.length === 1) await make();
        }
        return inner.dumpXml(ref, opts);
      },
    };
    try {
      const refs = await libvirt.listDomains();
      const current = matchListing(files, refs);
      if (current.kind !== 'current') throw new Error(current.problem);
      const fromFiles = new FromFiles(current);
      const outcomes = await reconcileDomains({ libvirt, transients: new TransientDomains(libvirt), cache: new CacheStore(join(state, 'network_info')), dryRun: false }, refs, undefined, fromFiles);
      assert.is(outcomes.find((o) => o.uuid === twoPorts.uuid)?.kind, 'repaired');
      assert.is(fromFiles.decided, ALL - 1);
    } finally {
      await libvirt.close();
    }
    assert.is(reads.length, 3, `the read before the write (changed), then libvirt read and read again: ${reads.join(' | ')}`);
    const xml = await config(twoPorts);
    if (change === 'an interface is detached') {
      assert.equal(portsOf(xml), expectedPorts(twoPorts.vifs.slice(0, 1)));
      assert.match(xml, /drift/);
      // Both interfaces again, for the next client's turn.
      await define(twoPorts, false);
    } else {
      assert.equal(portsOf(xml), expectedPorts(twoPorts.vifs));
      assert.match(xml, /changed-meanwhile/, "nova's change made meanwhile is not overwritten");
    }
  });
}

t.run();
