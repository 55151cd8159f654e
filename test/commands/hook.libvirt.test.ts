/**
 * hooks/qemu inside a real private libvirt daemon's start path: installed in qemu.d before the
 * daemon starts, as install.sh installs it, running the built bundle. What is checked is what
 * libvirt does (the guest starts, every time) and holds afterwards (dumpxml of both definitions),
 * never the tool's own word.
 *
 * NOVA_IPMETA_HOOK_CYCLES: how many start/stop cycles the endurance test runs (default 50).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheStore } from '../../src/adapters/cache-store';
import { BUNDLE } from '../support/cli';
import { hookEnv, installHook, runHookScript, shellQuote, writeBundleWrapper, writeScript, type HookPaths } from '../support/hook-install';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../support/libvirt';
import { makeVif, networkInfo, novaInstance, NS_1_0, NS_1_1, type TestVif } from '../support/nova-guest';
import { expectedPorts, portsOf } from '../support/ports-of';

const CYCLES = Number(process.env.NOVA_IPMETA_HOOK_CYCLES ?? 50);
/** How long after `virsh start` returns the ports must be in both definitions (the bound). */
const PORTS_WITHIN_MS = 5000;

interface Guest {
  name: string;
  uuid: string;
  ns: string;
  vifs: TestVif[];
}

const t = suite('the qemu hook in a real daemon');
let d: PrivateLibvirt;
const scratch = mkdtempSync(join(tmpdir(), 'nova-ipmeta-hook-libvirt-'));
const state = join(scratch, 'state');
const config = join(scratch, 'nova-ipmeta.conf');
const wrapper = join(scratch, 'nova-ipmeta');
const paths: HookPaths = { novaIpmeta: wrapper, config, log: join(state, 'hook.log') };
let hookFile = '';
const cache = new CacheStore(join(state, 'network_info'));

/** Replaces the installed hook in one rename, as an upgrade would; libvirt runs the new one next time. */
function reinstall(overrides: Partial<HookPaths> = {}): void {
  const temp = `${hookFile}.new`;
  installHook(temp, { ...paths, ...overrides });
  renameSync(temp, hookFile);
}

const guest = (name: string, ns = NS_1_1, n = 2): Guest => ({ name, uuid: randomUUID(), ns, vifs: Array.from({ length: n }, () => makeVif()) });
const live = (g: Guest) => d.virshOk('dumpxml', g.uuid);
const persistent = (g: Guest) => d.virshOk('dumpxml', '--inactive', g.uuid);
const readLog = () => (existsSync(paths.log) ? readFileSync(paths.log, 'utf8') : '');

async function define(g: Guest): Promise<void> {
  const file = join(scratch, `${g.uuid}.xml`);
  writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: g.vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata: novaInstance({ ns: g.ns, name: g.name }) }));
  await d.virshOk('define', file);
}

/** The nova element without ports, unprefixed as `virsh metadata --set` wants it (docs/design.md, "Facts about libvirt"). */
function withoutPorts(g: Guest): string {
  return novaInstance({ ns: g.ns, name: g.name }).replace(/nova:/g, '').replace(/ xmlns:nova="[^"]*"/, '').replace(/\n\s*/g, ' ');
}

async function stripPorts(g: Guest, ...where: ('--live' | '--config')[]): Promise<void> {
  await d.virshOk('metadata', g.uuid, '--uri', g.ns, '--key', 'nova', '--set', withoutPorts(g), ...where);
}

async function portsBoth(g: Guest): Promise<[string[] | null, string[] | null]> {
  return [portsOf(await live(g)), portsOf(await persistent(g))];
}

/** Polls both definitions until they carry the guest's ports; returns how long that took, or throws. */
async function portsArrive(g: Guest, since: number, withinMs = PORTS_WITHIN_MS): Promise<number> {
  const want = expectedPorts(g.vifs);
  let seen: [string[] | null, string[] | null] = [null, null];
  while (Date.now() - since <= withinMs) {
    seen = await portsBoth(g);
    if (JSON.stringify(seen) === JSON.stringify([want, want])) return Date.now() - since;
    await sleep(50);
  }
  throw new Error(`${g.name}: ports not in both definitions ${withinMs} ms after start; live ${JSON.stringify(seen[0])}, persistent ${JSON.stringify(seen[1])}; log:\n${readLog()}`);
}

async function domState(g: Guest): Promise<string> {
  return (await d.virshOk('domstate', g.uuid)).trim();
}

/** Starts the guest; the start must succeed and the guest run. Returns when `virsh start` returned. */
async function mustStart(g: Guest, label: string): Promise<number> {
  const before = Date.now();
  const r = await d.virsh('start', g.uuid);
  assert.is(r.code, 0, `${label}: virsh start failed: ${r.stderr}`);
  assert.is(await domState(g), 'running', label);
  return before;
}

async function stop(g: Guest): Promise<void> {
  const r = await d.virsh('destroy', g.uuid);
  assert.is(r.code, 0, r.stderr);
}

/** Waits until every detached reconcile the hook started is gone (they hold the hook file's flock). */
async function hooksSettled(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await d.nsexec(['flock', '-n', '/etc/libvirt/hooks/qemu.d/nova-ipmeta', 'true']);
    if (r.code === 0) return;
    await sleep(50);
  }
  throw new Error('a detached reconcile still runs after 30 s');
}

t.before(async () => {
  mkdirSync(state, { mode: 0o700 });
  writeFileSync(config, `[DEFAULT]\nstate_dir = ${state}\n`);
  writeBundleWrapper(wrapper);
  d = await startPrivateLibvirt({
    prepare: (root) => {
      const dir = join(root, 'etc', 'hooks', 'qemu.d');
      mkdirSync(dir, { recursive: true });
      hookFile = join(dir, 'nova-ipmeta');
      installHook(hookFile, paths);
    },
  });
  cleanupOnExit(d);
  assert.is(hookFile, join(d.hooksDir, 'qemu.d', 'nova-ipmeta'));
});

t.after(async () => {
  await d.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const first = guest('instance-00000101', NS_1_0);
const odd = guest(`odd name 'q' $(touch x) -x`);

t('a guest start puts its ports in both definitions, within 5 s', async () => {
  for (const g of [first, odd]) {
    await define(g);
    cache.put(g.uuid, networkInfo(g.vifs));
    assert.equal(await portsBoth(g), [null, null], 'no ports before');
    const since = await mustStart(g, g.name);
    const ms = await portsArrive(g, since);
    console.log(`  ${g.name}: ports in both definitions ${ms} ms after virsh start began`);
    await stop(g);
  }
  await hooksSettled();
});

t('faults of the tool never stop a guest from starting', async () => {
  const g = guest('instance-00000102');
  await define(g);
  const failing = join(scratch, 'failing-nova-ipmeta');
  writeScript(failing, `[ "$1" = reconcile ] && { echo "reconcile: simulated failure" >&2; exit 3; }\nexec ${shellQuote(wrapper)} "$@"`);
  const nodeless = join(scratch, 'nodeless-nova-ipmeta');
  writeScript(nodeless, `exec /nonexistent/bin/node ${shellQuote(BUNDLE)} "$@"`);
  interface Fault {
    label: string;
    breakIt: () => unknown;
    mend: () => unknown;
  }
  const faults: Fault[] = [
    {
      label: 'cache file corrupt',
      breakIt: () => {
        writeFileSync(cache.path(g.uuid), '[{"id": 1', { mode: 0o600 });
      },
      mend: () => {
        cache.rm(g.uuid);
      },
    },
    {
      label: 'cache directory gone',
      breakIt: () => {
        rmSync(cache.dir, { recursive: true, force: true });
      },
      mend: () => undefined,
    },
    {
      // Read-only for root too: a read-only bind mount, inside the daemon's (and so the hook's) namespace.
      label: 'state directory read-only',
      breakIt: async () => {
        for (const argv of [['mount', '--bind', state, state], ['mount', '-o', 'remount,bind,ro', state]]) {
          const r = await d.nsexec(argv);
          assert.is(r.code, 0, r.stderr);
        }
        assert.is.not((await d.nsexec(['touch', join(state, 'probe')])).code, 0, 'read-only for the hook');
      },
      mend: () => d.nsexec(['umount', state]),
    },
    {
      label: 'state directory gone',
      breakIt: () => {
        renameSync(state, `${state}.away`);
      },
      mend: () => {
        // reconcile creates a missing state directory (0700) on its way to the lock: that is fine.
        rmSync(state, { recursive: true, force: true });
        renameSync(`${state}.away`, state);
      },
    },
    { label: 'config file missing', breakIt: () => { reinstall({ config: join(scratch, 'no-such.conf') }); }, mend: () => { reinstall(); } },
    { label: 'reconcile child failing', breakIt: () => { reinstall({ novaIpmeta: failing }); }, mend: () => { reinstall(); } },
    { label: 'node missing', breakIt: () => { reinstall({ novaIpmeta: nodeless }); }, mend: () => { reinstall(); } },
    { label: 'nova-ipmeta missing', breakIt: () => { reinstall({ novaIpmeta: join(scratch, 'no-such-binary') }); }, mend: () => { reinstall(); } },
  ];
  for (const { label, breakIt, mend } of faults) {
    cache.put(g.uuid, networkInfo(g.vifs));
    await breakIt();
    try {
      for (let i = 0; i < 3; i++) {
        await mustStart(g, `${label} #${i + 1}`);
        await stop(g);
      }
      await hooksSettled();
    } finally {
      await mend();
    }
  }
  assert.match(readLog(), /reconcile: simulated failure/);
  assert.match(readLog(), /reconcile of instance-00000102 after started exited 3/);
  assert.match(readLog(), /exited 127/, 'node missing, logged');
  // And after all that, it works again.
  cache.put(g.uuid, networkInfo(g.vifs));
  await portsArrive(g, await mustStart(g, 'mended'));
  await stop(g);
  await hooksSettled();
});

t(`${CYCLES} start/stop cycles: no hang, no failed start, the ports right after each start`, async () => {
  const g = guest('instance-00000103');
  await define(g);
  const latencies: number[] = [];
  const began = Date.now();
  for (let i = 0; i < CYCLES; i++) {
    // A floating IP (dis)associated while the guest was off: each start has something to write.
    const vif = g.vifs[0] as TestVif;
    vif.floating = i % 2 ? [] : [`203.0.113.${(i % 200) + 1}`];
    cache.put(g.uuid, networkInfo(g.vifs));
    const since = await mustStart(g, `cycle ${i + 1}`);
    latencies.push(await portsArrive(g, since));
    await stop(g);
  }
  const total = (Date.now() - began) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `  ${CYCLES} cycles in ${total.toFixed(1)} s (${(total / CYCLES).toFixed(2)} s each); start to ports in both definitions: median ${sorted[Math.floor(sorted.length / 2)] ?? 0} ms, max ${sorted.at(-1) ?? 0} ms`,
  );
  await hooksSettled();
});

t('migrate and restore: the hook turns a real dumpxml into one with the ports', async () => {
  const g = guest('instance-00000104');
  await define(g);
  cache.put(g.uuid, networkInfo(g.vifs));
  const xml = await persistent(g);
  assert.is(portsOf(xml), null);
  for (const op of ['migrate', 'restore']) {
    const r = runHookScript(hookFile, [g.name, op, 'begin', '-'], xml, hookEnv());
    assert.is(r.code, 0, r.stderr);
    assert.equal(portsOf(r.stdout), expectedPorts(g.vifs), op);
    // libvirt accepts it as the domain's definition.
    const file = join(scratch, `${op}.xml`);
    writeFileSync(file, r.stdout);
    await d.virshOk('define', file);
    assert.equal(portsOf(await persistent(g)), expectedPorts(g.vifs));
    await stripPorts(g, '--config');
  }
});

t('restore through libvirt: the saved image\'s XML gets its ports from the filter itself', async () => {
  const g = guest('instance-00000105');
  await define(g);
  cache.put(g.uuid, networkInfo(g.vifs));
  await portsArrive(g, await mustStart(g, 'before save'));
  await hooksSettled();
  await stripPorts(g, '--live', '--config');
  assert.equal(await portsBoth(g), [null, null]);
  const image = join(scratch, 'saved.img');
  await d.virshOk('save', g.uuid, image);
  // Reconcile out of the way: only the filter can put the ports back now.
  const filterOnly = join(scratch, 'filter-only-nova-ipmeta');
  writeScript(filterOnly, `[ "$1" = hook ] || exit 0\nexec ${shellQuote(wrapper)} "$@"`);
  reinstall({ novaIpmeta: filterOnly });
  try {
    await d.virshOk('restore', image);
    assert.is(await domState(g), 'running');
    assert.equal(portsOf(await live(g)), expectedPorts(g.vifs), 'the live definition came back with its ports');
  } finally {
    reinstall();
    rmSync(image, { force: true });
  }
  await stop(g);
  await hooksSettled();
});

t('a daemon restart runs reconnect: reconcile puts back the ports of running guests', async () => {
  const guests = [guest('instance-00000106'), guest('instance-00000107', NS_1_0)];
  for (const g of guests) {
    await define(g);
    cache.put(g.uuid, networkInfo(g.vifs));
    await portsArrive(g, await mustStart(g, g.name));
  }
  await hooksSettled();
  for (const g of guests) {
    await stripPorts(g, '--live', '--config');
    assert.equal(await portsBoth(g), [null, null]);
  }
  const since = Date.now();
  await d.restart();
  for (const g of guests) {
    assert.is(await domState(g), 'running', 'the guests survived the restart');
    const ms = await portsArrive(g, since, 30_000);
    console.log(`  ${g.name}: ports back ${ms} ms after the restart began`);
  }
  for (const g of guests) await stop(g);
  await hooksSettled();
});

t.run();
