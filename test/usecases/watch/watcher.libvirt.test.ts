/**
 * `nova-ipmeta watch` end to end: the built bundle runs as a child of this test against a real
 * private libvirt daemon, and what is checked is what libvirt holds afterwards (dumpxml) and the
 * events it sends. Each reaction is polled for with a deadline of 2 s (the watcher's promise);
 * the latencies measured are printed.
 *
 * This is the containerized case (docs/design.md, "Triggers"): the daemon lives in a mount
 * namespace of its own, as kolla-ansible's nova_libvirt does; the watcher runs outside it with
 * only the socket, no hook is installed, and no XML directory is visible to it. The watcher alone
 * must bring every change to the XML: guest starts, an incoming migration's define and start, a
 * restore, attach, detach, nova's overwrite, a cache change, a daemon restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireRunLock } from '../../../src/adapters/run-lock';
import { BUNDLE, runBundle } from '../../support/cli';
import { cleanupOnExit, guestKernel, guestXml, interfaceXml, startPrivateLibvirt, type PrivateLibvirt } from '../../support/libvirt';
import { cachePut as putCache, makeVif, novaInstance, NS_1_0, NS_1_1, type TestVif } from '../../support/nova-guest';
import { expectedPorts, portsOf } from '../../support/ports-of';

/** The watcher's promise: a change is in the XML within 2 s. */
const REACT_MS = 2000;
/** Generous deadlines for what is not the watcher's promise (daemon restart, guest boot). */
const SLOW_MS = 60_000;

interface Guest {
  name: string;
  uuid: string;
  ns: string;
  /** The VIFs in the cache; `attached` says which are on the domain. */
  vifs: TestVif[];
  attached: TestVif[];
}

/** Lines a child process writes, each with the time it arrived. */
class Lines {
  readonly all: { at: number; text: string }[] = [];
  constructor(stream: NodeJS.ReadableStream) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (text) => this.all.push({ at: Date.now(), text }));
  }
  since(mark: number): string[] {
    return this.all.slice(mark).map((l) => l.text);
  }
  get mark(): number {
    return this.all.length;
  }
  text(): string {
    return this.all.map((l) => l.text).join('\n');
  }
}

const t = suite('watch on a real daemon');
let d: PrivateLibvirt;
let state: string;
let watcher: ChildProcess;
let log: Lines;
let events: { proc: ChildProcess; lines: Lines };
const latencies: Record<string, number> = {};

const kernelGuest: Guest = { name: 'instance-00000001', uuid: randomUUID(), ns: NS_1_1, vifs: [], attached: [] };
const oddGuest: Guest = { name: `odd name 'q' "dq" é`, uuid: randomUUID(), ns: NS_1_0, vifs: [], attached: [] };
{
  const [a, b] = [makeVif(), makeVif()];
  kernelGuest.vifs = [a, b];
  kernelGuest.attached = [a];
  const c = makeVif();
  oddGuest.vifs = [c];
  oddGuest.attached = [c];
}

const live = (g: Guest) => d.virshOk('dumpxml', g.uuid);
const config = (g: Guest) => d.virshOk('dumpxml', '--inactive', g.uuid);
const expected = (g: Guest) => expectedPorts(g.vifs.filter((v) => g.attached.includes(v)));

const cli = (...args: string[]) => runBundle([...args, '--connect', d.uri, '--state-dir', state]);
const cachePut = (g: Guest) => {
  putCache(cli, g.uuid, g.vifs, state);
};

/** nova's own write: the whole element, unprefixed, as `virsh metadata --set` wants it. */
async function novaOverwrite(g: Guest, novaPorts?: readonly TestVif[]): Promise<void> {
  const element = novaInstance({ ns: g.ns, name: 'web', ...(novaPorts ? { novaPorts } : {}) })
    .replace(/nova:/g, '')
    .replace(/ xmlns:nova="[^"]*"/, '')
    .replace(/\n\s*/g, '');
  await d.virshOk('metadata', g.uuid, '--uri', g.ns, '--key', 'nova', '--set', element, '--live', '--config');
}

function openEvents(): { proc: ChildProcess; lines: Lines } {
  const proc = spawn('virsh', ['-c', d.uri, 'event', '--all', '--loop', '--timestamp'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  return { proc, lines: new Lines(proc.stdout as NodeJS.ReadableStream) };
}

/** Polls `probe` until it returns a value, or fails at the deadline with `what` and the watcher's log. */
async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, ms: Date.now() - start };
    if (Date.now() - start > deadlineMs) assert.unreachable(`${what}: not within ${deadlineMs} ms (last: ${JSON.stringify(last)})\nwatcher log:\n${log.text()}`);
    last = value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function portsFollow(what: string, g: Guest, read: (g: Guest) => Promise<string>, deadlineMs = REACT_MS): Promise<number> {
  const want = expected(g);
  let seen: string[] | null = null;
  const { ms } = await until(what, deadlineMs, async () => {
    seen = portsOf(await read(g));
    return JSON.stringify(seen) === JSON.stringify(want) ? true : undefined;
  }).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\nwant ${JSON.stringify(want)}\nseen ${JSON.stringify(seen)}`);
  });
  return ms;
}

async function logLine(re: RegExp, mark: number, deadlineMs: number): Promise<void> {
  await until(`watcher log ${String(re)}`, deadlineMs, () => (log.since(mark).some((l) => re.test(l)) ? true : undefined));
}

/** The PIDs of a process's children. */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/s.test(stat);
  } catch {
    return false;
  }
}

/** The guest's XML file, with nova's element as nova (or a migration source) wrote it. */
function domainFile(g: Guest, opts: { kernel?: { kernel: string; initrd: string }; novaPorts?: readonly TestVif[] } = {}): string {
  const file = join(d.root, `${g.uuid}.xml`);
  const xml = guestXml({
    name: g.name,
    uuid: g.uuid,
    interfaces: g.attached.map((v) => ({ mac: v.mac, dev: v.dev })),
    metadata: novaInstance({ ns: g.ns, name: 'web', ...(opts.novaPorts ? { novaPorts: opts.novaPorts } : {}) }),
    ...(opts.kernel ? { kernel: opts.kernel } : {}),
  });
  writeFileSync(file, xml);
  return file;
}

async function define(g: Guest, kernel?: { kernel: string; initrd: string }): Promise<void> {
  await d.virshOk('define', domainFile(g, kernel ? { kernel } : {}));
  await d.virshOk('start', g.uuid);
}

function newGuest(name: string): Guest {
  const v = makeVif({ floating: ['203.0.113.5'] });
  return { name, uuid: randomUUID(), ns: NS_1_1, vifs: [v], attached: [v] };
}

/** Both definitions of a persistent guest, the live one of a running guest, follow within 2 s. */
async function bothFollow(what: string, g: Guest, deadlineMs = REACT_MS): Promise<number> {
  const start = Date.now();
  await portsFollow(`${what} (live)`, g, live, deadlineMs);
  await portsFollow(`${what} (config)`, g, config, Math.max(0, deadlineMs - (Date.now() - start)));
  return Date.now() - start;
}

t.before(async () => {
  d = await startPrivateLibvirt();
  cleanupOnExit(d);
  assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build first`);
  state = mkdtempSync(join(tmpdir(), 'nova-ipmeta-watch-'));
  const kernel = await guestKernel();
  await define(kernelGuest, kernel);
  await define(oddGuest);
  cachePut(kernelGuest);
  cachePut(oddGuest);
  events = openEvents();
  watcher = spawn(process.execPath, [BUNDLE, 'watch', '--connect', d.uri, '--state-dir', state], { stdio: ['ignore', 'ignore', 'pipe'] });
  log = new Lines(watcher.stderr as NodeJS.ReadableStream);
  await logLine(/^all domains reconciled \(startup\)/, 0, SLOW_MS);
});

t.after(async () => {
  if (watcher.exitCode === null && watcher.signalCode === null) watcher.kill('SIGKILL');
  events.proc.kill();
  await d.stop();
  rmSync(state, { recursive: true, force: true });
  console.log(`\nlatencies (ms; metadataChangeEvents is a count): ${JSON.stringify(latencies)}\nwatcher log:\n${log.text()}`);
});

t('startup: every domain reconciled once', async () => {
  await portsFollow('kernel guest at startup', kernelGuest, live, 0);
  await portsFollow('kernel guest at startup (config)', kernelGuest, config, 0);
  await portsFollow('odd-named guest at startup', oddGuest, live, 0);
  assert.ok(log.text().includes('all domains reconciled (startup): 2 domains: 2 repaired'), log.text());
});

t('attach an interface whose port is in the cache: the port follows; detach it live: the port goes', async () => {
  const b = kernelGuest.vifs[1];
  assert.ok(b);
  const file = join(d.root, 'nic-b.xml');
  writeFileSync(file, interfaceXml({ mac: b.mac, dev: b.dev }));
  await d.virshOk('attach-device', kernelGuest.uuid, file, '--live', '--config');
  kernelGuest.attached.push(b);
  latencies.attach = await portsFollow('ports after attach', kernelGuest, live);
  await portsFollow('ports after attach (config)', kernelGuest, config);

  await guestBooted(kernelGuest);
  const mark = events.lines.mark;
  await d.virshOk('detach-device', kernelGuest.uuid, file, '--live', '--config');
  await until('device-removed event', SLOW_MS, () => (events.lines.since(mark).some((l) => l.includes("'device-removed'")) ? true : undefined));
  kernelGuest.attached.pop();
  latencies.detach = await portsFollow('ports after detach', kernelGuest, live);
  await portsFollow('ports after detach (config)', kernelGuest, config);
});

t('nova writes its element back without our ports: repaired, and it converges', async () => {
  const mark = events.lines.mark;
  const logMark = log.mark;
  await novaOverwrite(oddGuest);
  latencies.novaOverwrite = await portsFollow('ports after nova overwrite', oddGuest, live);
  await portsFollow('ports after nova overwrite (config)', oddGuest, config);
  // No loop: the metadata-change events of this domain stop (quiet for 2 s) and stay few.
  const changes = () => events.lines.all.slice(mark).filter((l) => l.text.includes("'metadata-change'") && l.text.includes(oddGuest.name));
  await until('metadata-change events to stop', 20_000, () => {
    const last = changes().at(-1);
    return last && Date.now() - last.at > 2000 ? true : undefined;
  });
  latencies.metadataChangeEvents = changes().length;
  assert.ok(changes().length >= 2 && changes().length <= 3, `nova's write and ours: ${changes().length}`);
  const repaired = log.since(logMark).filter((l) => l.startsWith(`"odd name`) && l.includes(': repaired'));
  assert.is(repaired.length, 1, log.since(logMark).join('\n'));
});

t('a cache file changes (a floating IP added): the XML follows', async () => {
  kernelGuest.vifs[0]?.floating.push('203.0.113.77');
  cachePut(kernelGuest);
  latencies.cachePut = await portsFollow('ports after cache put', kernelGuest, live);
  await portsFollow('ports after cache put (config)', kernelGuest, config);
});

t('a transient guest starts (its only event is Started): the live definition follows', async () => {
  const g = newGuest('transient-1');
  cachePut(g);
  const file = domainFile(g);
  await d.virshOk('create', file);
  latencies.transientStart = await portsFollow('ports after a transient start', g, live);
  await d.virshOk('destroy', g.uuid);
});

t('nova boots a guest (define, then start at once): both definitions follow', async () => {
  const g = newGuest('instance-00000003');
  cachePut(g);
  // nova >= 23 writes its fixed IPs itself, never the floating ones.
  await d.virshOk('define', domainFile(g, { novaPorts: g.vifs }));
  await d.virshOk('start', g.uuid);
  latencies.novaBoot = await bothFollow('ports after define + start', g);
});

t("an incoming migration as it lands here (define with the source's stale ports, then start): both follow", async () => {
  const g = newGuest('instance-00000005');
  const source = { ...g, vifs: [{ ...(g.vifs[0] as TestVif), floating: ['198.51.100.200'] }] };
  cachePut(g);
  // The definition arrives as the source had it: ports with a floating IP this host's cache does not have.
  await d.virshOk('define', domainFile(source, { novaPorts: source.vifs }));
  await d.virshOk('start', g.uuid);
  latencies.incomingMigration = await bothFollow('ports after an incoming define + start', g);
});

t('a restore from a saved image with older ports: the live definition follows', async () => {
  const g = newGuest('instance-00000006');
  cachePut(g);
  await d.virshOk('define', domainFile(g));
  await d.virshOk('start', g.uuid);
  await bothFollow('ports before the save', g);
  const image = join(d.root, `${g.uuid}.save`);
  await d.virshOk('save', g.uuid, image);
  // A floating IP associated while the guest was saved: the image still holds the old ports.
  (g.vifs[0] as TestVif).floating.push('203.0.113.6');
  cachePut(g);
  await portsFollow('the stopped guest after the cache change', g, config);
  await d.virshOk('restore', image);
  latencies.restore = await bothFollow('ports after a restore', g);
});

t('the daemon restarts: the watcher reconnects, catches up, and still reacts', async () => {
  const logMark = log.mark;
  events.proc.kill();
  await d.restart();
  events = openEvents();
  // Most likely before the watcher is back: only the catch-up run can repair this one.
  await novaOverwrite(oddGuest);
  // From the moment the daemon is back: within 2 s, both definitions.
  latencies.restartCatchUp = await bothFollow('odd guest after the restart', oddGuest);
  await logLine(/^event stream ended/, logMark, SLOW_MS);
  await logLine(/^all domains reconciled \(reconnected\)/, logMark, SLOW_MS);
  const fixedOnly = kernelGuest.vifs.filter((v) => kernelGuest.attached.includes(v));
  await novaOverwrite(kernelGuest, fixedOnly);
  assert.ok(portsOf(await live(kernelGuest))?.every((p) => !p.includes('floating')), 'nova wrote fixed IPs only');
  latencies.afterRestart = await portsFollow('ports after a nova overwrite, after the restart', kernelGuest, live);
});

t('SIGTERM: exits 0 promptly, no virsh child left, the lock free', async () => {
  const pid = watcher.pid;
  assert.ok(pid);
  const children = childPids(pid);
  const comms = children.map((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim());
  assert.ok(comms.includes('virsh'), `the event stream and the session run: ${comms.join(', ')}`);
  let exit: { code: number | null; signal: string | null } | undefined;
  watcher.once('exit', (code, signal) => {
    exit = { code, signal };
  });
  watcher.kill('SIGTERM');
  const { value: end, ms } = await until('exit after SIGTERM', 10_000, () => exit);
  latencies.sigterm = ms;
  assert.equal(end, { code: 0, signal: null }, log.text());
  for (const c of children) assert.not.ok(alive(c), `child ${c} still alive`);
  assert.match(log.text(), /stopping \(SIGTERM\)\nstopped$/);
  const lock = await acquireRunLock(state, { waitMs: 0 });
  await lock.release();
});

/** The guest's kernel answers ACPI unplug requests only once it is up (the harness's console log says so). */
async function guestBooted(g: Guest): Promise<void> {
  const consoleLog = join(d.root, 'log', 'qemu', `${g.uuid}.console.log`);
  await until('the kernel guest up', SLOW_MS, () => {
    try {
      return readFileSync(consoleLog, 'utf8').includes('nova-ipmeta test guest: init up') ? true : undefined;
    } catch {
      return undefined;
    }
  });
}

t.run();
