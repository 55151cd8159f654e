/**
 * A private daemon with the hook installed (as install.sh installs it) and nova-like guests, for
 * the prove tests: their caches, a snapshot of what every other piece of metadata means, and the
 * checks run after every fault (guests running and startable, no torn cache file, no metadata
 * lost, the next reconcile converges).
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import * as assert from 'uvu/assert';
import { CacheStore } from '../../src/adapters/cache-store';
import { BUNDLE } from './cli';
import { installHook, writeBundleWrapper } from './hook-install';
import { outsidePorts } from './canonical-dom';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from './libvirt';
import { makeVif, networkInfo, novaInstance, NS_1_0, NS_1_1, type TestVif } from './nova-guest';
import { expectedPorts, portsOf } from './ports-of';

export const FOREIGN = '<acme:billing xmlns:acme="https://example.com/xmlns/acme/1"><acme:tier>gold</acme:tier></acme:billing>';

export interface Guest {
  name: string;
  uuid: string;
  ns: string;
  /** On the domain (persistent and live). */
  vifs: TestVif[];
  running: boolean;
  /** The nova element as defined (nova's own write puts it back like this, ports aside). */
  nova: string;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Host-wide unique tap names: tap + 11 random hex characters (the port id's first 11 in nova's scheme). */
export function randomVif(): TestVif {
  const v = makeVif();
  const id = `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}-4${randomBytes(2).toString('hex').slice(1)}-8${randomBytes(2).toString('hex').slice(1)}-${randomBytes(6).toString('hex')}`;
  return { ...v, id, dev: `tap${id.slice(0, 11)}` };
}

export class ProveDaemon {
  d!: PrivateLibvirt;
  readonly scratch = mkdtempSync(join(tmpdir(), 'nova-ipmeta-prove-'));
  readonly state = join(this.scratch, 'state');
  readonly config = join(this.scratch, 'nova-ipmeta.conf');
  readonly cache = new CacheStore(join(this.state, 'network_info'));
  readonly guests: Guest[] = [];
  /** What every guest's metadata, ports aside, means: taken once after definition. */
  private readonly meaning = new Map<string, string[][]>();
  private tmpfs = false;

  /** `stateSizeKiB`: the state directory is a tmpfs of that size (mounted before the daemon starts, so the hook shares it). */
  async start(opts: { stateSizeKiB?: number } = {}): Promise<void> {
    mkdirSync(this.state, { mode: 0o700 });
    if (opts.stateSizeKiB) {
      const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${opts.stateSizeKiB}k,mode=0700`, 'tmpfs', this.state], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      this.tmpfs = true;
    }
    writeFileSync(this.config, `[DEFAULT]\nstate_dir = ${this.state}\n`);
    const wrapper = join(this.scratch, 'nova-ipmeta');
    writeBundleWrapper(wrapper);
    this.d = await startPrivateLibvirt({
      prepare: (root) => {
        const dir = join(root, 'etc', 'hooks', 'qemu.d');
        mkdirSync(dir, { recursive: true });
        installHook(join(dir, 'nova-ipmeta'), { novaIpmeta: wrapper, config: this.config, log: join(this.scratch, 'hook.log') });
      },
    });
    cleanupOnExit(this.d);
  }

  async stop(): Promise<void> {
    await this.d.stop();
    if (this.tmpfs) spawnSync('umount', [this.state]);
    rmSync(this.scratch, { recursive: true, force: true });
  }

  /** Defines (and starts) `n` nova guests: both namespaces, nova-written ports on some, foreign metadata on all. */
  async addGuests(n: number, opts: { prefix: string; running: boolean; vifsEach?: number; kernel?: { kernel: string; initrd: string } }): Promise<Guest[]> {
    const made: Guest[] = [];
    for (let i = 0; i < n; i++) {
      const g: Guest = {
        name: `${opts.prefix}-${String(i).padStart(3, '0')}`,
        uuid: randomUUID(),
        ns: i % 3 === 0 ? NS_1_0 : NS_1_1,
        vifs: Array.from({ length: opts.vifsEach ?? 1 + (i % 2) }, randomVif),
        running: opts.running,
        nova: novaInstance({ ns: NS_1_1, name: `vm ${i} &lt;&amp;&gt; "q"` }),
      };
      g.nova = novaInstance({ ns: g.ns, name: `vm ${i} &lt;&amp;&gt; "q"` });
      const metadata = novaInstance({ ns: g.ns, name: `vm ${i} &lt;&amp;&gt; "q"`, ...(i % 4 === 1 ? { novaPorts: g.vifs } : {}) }) + FOREIGN;
      const file = join(this.scratch, `${g.uuid}.xml`);
      writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: g.vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata, ...(opts.kernel ? { kernel: opts.kernel } : {}) }));
      await this.d.virshOk('define', file);
      this.cache.put(g.uuid, networkInfo(g.vifs));
      if (g.running) await this.d.virshOk('start', g.uuid);
      this.meaning.set(g.uuid, await this.meaningOf(g));
      this.guests.push(g);
      made.push(g);
    }
    return made;
  }

  /** The bundle as a command, against this daemon and state. */
  cli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
    const r = spawnSync(process.execPath, [BUNDLE, ...args, '--connect', this.d.uri, '--state-dir', this.state], {
      encoding: 'utf8',
      env: opts.env ?? process.env,
      timeout: opts.timeoutMs ?? 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** The bundle as a child process (reconcile to be killed, the watcher). */
  spawnCli(args: readonly string[], opts: SpawnOptions = {}): ReturnType<typeof spawn> {
    return spawn(process.execPath, [BUNDLE, ...args, '--connect', this.d.uri, '--state-dir', this.state], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  }

  /** What the metadata of both definitions means, ports aside (canonical DOM lines, test/core/canonical-dom.ts). */
  async meaningOf(g: Guest): Promise<string[][]> {
    const out: string[][] = [];
    for (const args of g.running ? [['dumpxml', g.uuid], ['dumpxml', '--inactive', g.uuid]] : [['dumpxml', '--inactive', g.uuid]]) {
      out.push(metadataMeaning(await this.d.virshOk(...args)));
    }
    return out;
  }

  /** meaningOf(g) as taken right after the guest was defined. */
  baseline(g: Guest): string[][] | undefined {
    return this.meaning.get(g.uuid);
  }

  async portsBoth(g: Guest): Promise<(string[] | null)[]> {
    const defs = g.running ? [['dumpxml', g.uuid], ['dumpxml', '--inactive', g.uuid]] : [['dumpxml', '--inactive', g.uuid]];
    return Promise.all(defs.map(async (a) => portsOf(await this.d.virshOk(...a))));
  }

  /** The ports the cache says, for the guest's interfaces. */
  expected(g: Guest): string[] {
    const cached = this.cache.read(g.uuid);
    assert.is(cached.kind, 'ok', `${g.name}: cache ${cached.kind}`);
    const ids = new Set<string>(cached.kind === 'ok' ? cached.vifs.map((v) => v.id) : []);
    return expectedPorts(g.vifs.filter((v) => ids.has(v.id)));
  }

  /** Gives every guest's first VIF a new floating IP in the cache: the next reconcile has work on each. */
  bumpCaches(round: number, guests: readonly Guest[] = this.guests): void {
    for (const [i, g] of guests.entries()) {
      const v = g.vifs[0];
      if (!v) continue;
      v.floating = [`198.51.${(round * 7) % 250}.${(i % 250) + 1}`];
      this.cache.put(g.uuid, networkInfo(g.vifs));
    }
  }

  /** Waits until no detached reconcile started by the hook still runs (they hold the hook file's flock). */
  async hooksSettled(): Promise<void> {
    for (let i = 0; i < 1200; i++) {
      const r = await this.d.nsexec(['flock', '-n', '/etc/libvirt/hooks/qemu.d/nova-ipmeta', 'true']);
      if (r.code === 0) return;
      await sleep(50);
    }
    throw new Error('a detached reconcile still runs after 60 s');
  }

  /**
   * After a fault: every running guest runs, a stopped guest starts (the hook runs), no cache file
   * is torn and no temp file is left, no guest lost any other metadata, and reconcile converges:
   * one run leaves every guest in-sync or repaired, the next finds all in sync, and the ports are
   * the cache's in both definitions. Returns how many guests the converging run repaired.
   */
  async verify(label: string, starter: Guest): Promise<number> {
    for (const g of this.guests.filter((x) => x.running)) {
      assert.is((await this.d.virshOk('domstate', g.uuid)).trim(), 'running', `${label}: ${g.name} still runs`);
    }
    const start = await this.d.virsh('start', starter.uuid);
    assert.is(start.code, 0, `${label}: a guest start failed: ${start.stderr}`);
    await this.d.virshOk('destroy', starter.uuid);
    await this.hooksSettled();

    for (const e of this.cache.list()) assert.is(e.error, undefined, `${label}: cache file ${JSON.stringify(e)}`);
    const temps = [...readdirSync(this.state), ...readdirSync(this.cache.dir)].filter((f) => f.endsWith('.tmp'));
    assert.equal(temps, [], `${label}: temp files left`);

    const first = this.cli(['reconcile', '--json']);
    assert.is(first.code, 0, `${label}: converging reconcile: ${first.stderr}`);
    const report = JSON.parse(first.stdout) as { domains: { domain: string; kind: string }[] };
    const nova = report.domains.filter((o) => this.guests.some((g) => g.name === o.domain));
    assert.ok(nova.every((o) => o.kind === 'in-sync' || o.kind === 'repaired'), `${label}: ${JSON.stringify(nova.filter((o) => o.kind !== 'in-sync' && o.kind !== 'repaired'))}`);
    const second = this.cli(['reconcile', '--json']);
    assert.is(second.code, 0, second.stderr);
    const again = (JSON.parse(second.stdout) as { domains: { domain: string; kind: string }[] }).domains.filter((o) => this.guests.some((g) => g.name === o.domain));
    assert.ok(again.every((o) => o.kind === 'in-sync'), `${label}: second run not all in sync: ${JSON.stringify(again.filter((o) => o.kind !== 'in-sync'))}`);

    for (const g of this.guests) {
      const want = this.expected(g);
      for (const got of await this.portsBoth(g)) assert.equal(got, want, `${label}: ${g.name} ports`);
      assert.equal(await this.meaningOf(g), this.meaning.get(g.uuid), `${label}: ${g.name} lost or changed other metadata`);
    }
    return nova.filter((o) => o.kind === 'repaired').length;
  }

  /** SIGKILLs the daemon (guests keep running), then starts a new one in their namespace. */
  async killDaemon(): Promise<void> {
    const pid = Number((await import('node:fs')).readFileSync(join(this.d.root, 'libvirtd.pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await sleep(50);
    }
    throw new Error(`libvirtd ${pid} still alive after SIGKILL`);
  }
}

/**
 * What a domain's metadata means, ports aside: each element under <metadata>, as canonical DOM
 * lines without whitespace-only text, sorted. libvirt appends an element set by `virsh metadata`
 * after the others and re-indents it: neither changes what the metadata says.
 */
export function metadataMeaning(domainXml: string): string[] {
  const doc = new DOMParser().parseFromString(domainXml, 'text/xml');
  const metadata = doc.getElementsByTagName('metadata')[0];
  const parts: string[] = [];
  for (let n = metadata?.firstChild ?? null; n; n = n.nextSibling) {
    if (n.nodeType !== 1) continue;
    const lines = outsidePorts(`<domain><metadata>${new XMLSerializer().serializeToString(n)}</metadata></domain>`);
    const meaningful = lines
      .map((l) => l.trim())
      .filter((l) => !/^text "(\\n|\\t| )*"$/.test(l) && !l.startsWith('@{http://www.w3.org/2000/xmlns/}'))
      .map((l) => l.replace(/^<(\{[^}]*\})[^:\s]+:/, '<$1')); // the prefix is a spelling, the URI is the name
    parts.push(meaningful.join('\n'));
  }
  return parts.sort();
}

/** Lines of `virsh event --all --loop` counted as they come; `untilCount` resolves at the n-th metadata-change. */
export class MetadataEvents {
  private count = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  private readonly proc;
  constructor(uri: string) {
    this.proc = spawn('virsh', ['-c', uri, 'event', '--all', '--loop'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } });
    let buf = '';
    this.proc.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.includes("event 'metadata-change'")) this.count++;
      this.waiters = this.waiters.filter((w) => (this.count >= w.n ? (w.resolve(), false) : true));
    });
  }
  get seen(): number {
    return this.count;
  }
  untilCount(n: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.count >= n) resolve();
      else this.waiters.push({ n, resolve });
    });
  }
  close(): void {
    this.proc.kill();
  }
}

export { NS_1_0, NS_1_1 };
