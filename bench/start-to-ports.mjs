// Start to ports: from `virsh create` of a nova guest until its live definition carries the
// cached ports, on a private libvirt daemon, with the hook only, the watcher only (no hook, as
// with a containerized libvirtd), and both. The guest is transient: nothing could have written
// it before it starts. Rounds are interleaved (hook, both, watcher, ...), so the machine's noise
// hits each alike; medians, with ratios against the hook alone.
// Usage: npm run build && node bench/start-to-ports.mjs [--rounds N]   (root; installs libvirt if missing)
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cleanUpWhenGone, measuredEnv, stats } from './lib.mjs';

const { values: opts } = parseArgs({ options: { rounds: { type: 'string', default: '10' } } });
const ROUNDS = Number(opts.rounds);
const repo = fileURLToPath(new URL('..', import.meta.url));
const HARNESS = join(repo, 'test/support/libvirtd.sh');
const BUNDLE = join(repo, 'dist/nova-ipmeta.cjs');
if (!existsSync(BUNDLE)) throw new Error('run `npm run build` first');
const NS = 'http://openstack.org/xmlns/libvirt/nova/1.1';

function sh(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
const q = (s) => `'${s.replaceAll("'", `'\\''`)}'`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const root = mkdtempSync(join('/tmp', 'nova-ipmeta-bench-start-'));
const state = join(root, 'state');
const hooks = join(root, 'etc', 'hooks', 'qemu.d');
const ourHook = join(hooks, 'nova-ipmeta');
const parked = join(root, 'etc', 'hooks', 'nova-ipmeta.off');
let watcher;
let uri;

function setHook(on) {
  if (on && existsSync(parked)) renameSync(parked, ourHook);
  if (!on && existsSync(ourHook)) renameSync(ourHook, parked);
}

async function setWatcher(on) {
  if (on && !watcher) {
    watcher = spawn(process.execPath, [BUNDLE, 'watch', '--connect', uri, '--state-dir', state], { stdio: ['ignore', 'ignore', 'pipe'], env: measuredEnv() });
    const started = new Promise((resolve, reject) => {
      createInterface({ input: watcher.stderr }).on('line', (l) => {
        if (l.startsWith('all domains reconciled (startup)')) resolve();
      });
      watcher.once('exit', (code) => reject(new Error(`watcher exited ${code}`)));
    });
    await started;
  } else if (!on && watcher) {
    const w = watcher;
    watcher = undefined;
    const gone = new Promise((resolve) => w.once('exit', resolve));
    w.kill('SIGTERM');
    await gone;
  }
}

try {
  sh(['bash', HARNESS, 'deps']);
  sh(['bash', HARNESS, 'init', root]);
  mkdirSync(hooks, { recursive: true });
  // A script of its own in qemu.d when the daemon starts: libvirt then reads the directory at
  // every call, so ours can come and go between rounds without a restart.
  writeFileSync(join(hooks, '00-keep'), '#!/bin/sh\ncat >/dev/null\nexit 0\n');
  chmodSync(join(hooks, '00-keep'), 0o755);
  mkdirSync(join(state, 'network_info'), { recursive: true, mode: 0o700 });
  chmodSync(state, 0o700);
  const config = join(root, 'nova-ipmeta.conf');
  writeFileSync(config, `[DEFAULT]\nstate_dir = ${state}\n`);
  const wrapper = join(root, 'nova-ipmeta');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${q(process.execPath)} ${q(BUNDLE)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(
    ourHook,
    readFileSync(join(repo, 'hooks/qemu'), 'utf8')
      .replace(/^NOVA_IPMETA=.*$/m, `NOVA_IPMETA=${q(wrapper)}`)
      .replace(/^NOVA_IPMETA_CONFIG=.*$/m, `NOVA_IPMETA_CONFIG=${q(config)}`)
      .replace(/^NOVA_IPMETA_LOG=.*$/m, `NOVA_IPMETA_LOG=${q(join(state, 'hook.log'))}`),
  );
  chmodSync(ourHook, 0o755);
  await cleanUpWhenGone(['bash', HARNESS, 'stop', root], root);
  uri = sh(['bash', HARNESS, 'start', root]).trim();

  const port = randomUUID();
  const uuid = randomUUID();
  const mac = 'fa:16:3e:5a:70:01';
  const tap = `tap${port.slice(0, 11)}`;
  const floating = '203.0.113.201';
  writeFileSync(
    join(state, 'network_info', `${uuid}.json`),
    JSON.stringify([{ id: port, address: mac, network: { subnets: [{ ips: [{ address: '10.1.2.3', type: 'fixed', version: 4, floating_ips: [{ address: floating, type: 'floating', version: 4 }] }] }] } }]),
    { mode: 0o600 },
  );
  const xml = join(root, 'guest.xml');
  writeFileSync(
    xml,
    `<domain type='qemu'><name>instance-0000b001</name><uuid>${uuid}</uuid>
  <metadata><nova:instance xmlns:nova="${NS}"><nova:name>bench-1</nova:name><nova:owner><nova:project uuid="p">bench</nova:project></nova:owner></nova:instance></metadata>
  <memory unit='MiB'>48</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>
  <devices><interface type='ethernet'><mac address='${mac}'/><target dev='${tap}' managed='yes'/><model type='virtio'/><rom enabled='no'/></interface></devices></domain>`,
  );

  const modes = { hook: { hook: true, watcher: false }, both: { hook: true, watcher: true }, watcher: { hook: false, watcher: true } };
  const fromStart = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
  const fromReturn = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [name, mode] of Object.entries(modes)) {
      setHook(mode.hook);
      await setWatcher(mode.watcher);
      const t0 = performance.now();
      sh(['virsh', '-c', uri, 'create', xml]);
      const t1 = performance.now();
      for (;;) {
        const r = spawnSync('virsh', ['-c', uri, 'metadata', uuid, NS], { encoding: 'utf8' });
        if (r.stdout.includes(floating)) break;
        if (performance.now() - t0 > 30_000) throw new Error(`${name}: no ports after 30 s`);
        await sleep(10);
      }
      const t2 = performance.now();
      // Round 0 warms up (the capability cache, Node's compile cache).
      if (round > 0) {
        fromStart[name].push(t2 - t0);
        fromReturn[name].push(t2 - t1);
      }
      sh(['virsh', '-c', uri, 'destroy', uuid]);
      // The hook's detached children hold the hook file's lock until they are done.
      if (existsSync(ourHook)) sh(['flock', ourHook, 'true']);
      await sleep(300);
    }
  }
  const base = stats(fromStart.hook).median;
  console.log(`\nstart to ports in the live definition (${ROUNDS} rounds, ms; from \`virsh create\` issued / returned)`);
  for (const name of Object.keys(modes)) {
    const a = stats(fromStart[name]);
    const b = stats(fromReturn[name]);
    const label = { hook: 'hook only', both: 'hook and watcher', watcher: 'watcher only (no hook)' }[name];
    console.log(`  ${label.padEnd(24)} ${a.median.toFixed(0).padStart(6)} median ${a.min.toFixed(0).padStart(6)} min  (after the create returned: ${b.median.toFixed(0)} median)  ${(a.median / base).toFixed(2)}x ${name === 'hook' ? '(baseline)' : ''}`);
  }
} finally {
  await setWatcher(false).catch(() => undefined);
  spawnSync('bash', [HARNESS, 'stop', root], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
}
