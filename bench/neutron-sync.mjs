// `cache sync` of N nova instances against a real Neutron (test/support/neutron.sh):
// 1. a full sync: the number of HTTP requests (the adapter's own counter, retries included), which
//    must grow with the chunks of 50 ids only, and the wall time of a first (every file written)
//    and a second full sync (nothing written);
// 2. what the periodic run costs Neutron: requests and bytes on the wire (both ways, headers
//    included) of a full sync, of a quiet incremental poll, and of a poll after one floating IP
//    moved; then per host and hour (one run a minute, a full sync an hour) for N instances, and
//    for 1,000 such hosts, against the baseline of a full sync every minute, measured in the same run.
// The instances are domain XML files read with --persistent-xml-dir (no libvirt needed: a
// stand-in daemon makes them count as its own, bench/lib.mjs); each
// has one port, every 4th a second one, every 2nd a floating IP.
// Usage: node bench/neutron-sync.mjs [--instances N] [--changes-per-hour C]   (root; installs
// python3-neutron if missing)
/* global fetch */ // Node >= 18
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUpWhenGone, measuredEnv, standInDaemon } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('instances', 200);
const CHANGES = arg('changes-per-hour', 10);
const HOSTS = 1000;
const RUNS_PER_HOUR = 60;
const SIZES = [...new Set([20, 100, N])].filter((s) => s <= N).sort((a, b) => a - b);
const HARNESS = 'test/support/neutron.sh';
const BUNDLE = 'dist/nova-ipmeta.cjs';
const NS = 'http://openstack.org/xmlns/libvirt/nova/1.1';
const PROJECT = 'acf923f29b4d4e0d8acfb1b2976dd480';

function sh(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}`);
  return r.stdout;
}
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-bench-neutron-'));
/** The stand-in daemons' stops. */
const stops = [];
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
// cache sync's environment: the bench's without any OS_* of this machine's, straight to this Neutron.
const syncEnv = { ...Object.fromEntries(Object.entries(measuredEnv()).filter(([k]) => !k.startsWith('OS_'))), OS_AUTH_TYPE: 'none', OS_NETWORK_ENDPOINT_OVERRIDE: url };
let apiCalls = 0;
async function api(method, path, body) {
  // The test Neutron keeps its database in sqlite: under load a write may meet "database is
  // locked" (its log says so) and answer 500 with the transaction rolled back: tried again.
  for (let attempt = 1; ; attempt++) {
    apiCalls++;
    const r = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status === 500 && attempt < 4) {
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
      continue;
    }
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status}: ${text}`);
    return JSON.parse(text);
  }
}
const create = async (kind, body) => (await api('POST', `/v2.0/${kind}s`, { [kind]: { project_id: PROJECT, ...body } }))[kind].id;

try {
  mkdirSync(join(root, 'neutron'));
  await cleanUpWhenGone(['bash', HARNESS, 'stop', join(root, 'neutron')], root);
  sh(['bash', HARNESS, 'start', join(root, 'neutron'), String(port)]);
  const pub = await create('network', { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' });
  await create('subnet', { network_id: pub, cidr: '198.51.0.0/16', ip_version: 4, enable_dhcp: false });
  const net = await create('network', { name: 'private' });
  const v4 = await create('subnet', { network_id: net, cidr: '10.0.0.0/16', ip_version: 4 });
  const v6 = await create('subnet', { network_id: net, cidr: 'fd00::/64', ip_version: 6, ipv6_address_mode: 'dhcpv6-stateful', ipv6_ra_mode: 'dhcpv6-stateful' });
  const router = await create('router', { name: 'r', external_gateway_info: { network_id: pub } });
  await api('PUT', `/v2.0/routers/${router}/add_router_interface`, { subnet_id: v4 });

  const instances = Array.from({ length: N }, (_, i) => ({ i, uuid: randomUUID(), name: `instance-${(0x7000 + i).toString(16).padStart(8, '0')}` }));
  const wanted = instances.flatMap((d) => (d.i % 4 === 0 ? [0, 1] : [0]).map((k) => ({ d, k })));
  const ports = [];
  const t0 = Date.now();
  for (let c = 0; c < wanted.length; c += 50) {
    const bulk = wanted.slice(c, c + 50).map(({ d, k }) => ({
      project_id: PROJECT,
      network_id: net,
      device_id: d.uuid,
      device_owner: 'compute:nova',
      mac_address: `fa:16:3e:${k.toString(16).padStart(2, '0')}:${((d.i >> 8) & 255).toString(16).padStart(2, '0')}:${(d.i & 255).toString(16).padStart(2, '0')}`,
      fixed_ips: [
        { subnet_id: v4, ip_address: `10.0.${(d.i >> 7) + 1 + k * 10}.${(d.i & 127) + 2}` },
        { subnet_id: v6, ip_address: `fd00::${k}:${(d.i + 1).toString(16)}` },
      ],
    }));
    ports.push(...(await api('POST', '/v2.0/ports', { ports: bulk })).ports.map((p, j) => ({ ...p, d: wanted[c + j].d, k: wanted[c + j].k })));
  }
  for (const p of ports.filter((p) => p.k === 0 && p.d.i % 2 === 0)) {
    await api('POST', '/v2.0/floatingips', { floatingip: { project_id: PROJECT, floating_network_id: pub, port_id: p.id } });
  }
  console.log(`setup: ${N} instances, ${ports.length} ports, ${Math.ceil(N / 2)} floating IPs in ${((Date.now() - t0) / 1000).toFixed(1)} s (${apiCalls} API calls)`);

  console.log(`\none cache sync (requests = the adapter's count; chunks of 50 ids)`);
  console.log(`  ${'instances'.padStart(9)} ${'ports'.padStart(6)} ${'requests'.padStart(8)} ${'expected'.padStart(8)} ${'first sync'.padStart(11)} ${'second sync'.padStart(12)}`);
  for (const size of SIZES) {
    const dir = join(root, `n${size}`);
    const xml = join(dir, 'xml');
    const live = join(dir, 'live');
    mkdirSync(xml, { recursive: true });
    mkdirSync(live);
    stops.push(await standInDaemon(dir, [live]));
    for (const d of instances.slice(0, size)) {
      writeFileSync(
        join(xml, `${d.name}.xml`),
        `<domain type='qemu'><name>${d.name}</name><uuid>${d.uuid}</uuid><metadata><nova:instance xmlns:nova="${NS}"><nova:name>${d.name}</nova:name></nova:instance></metadata><memory unit='MiB'>48</memory><os><type arch='x86_64'>hvm</type></os><devices/></domain>`,
        { mode: 0o600 },
      );
    }
    const sync = () => {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [BUNDLE, 'cache', 'sync', '--full', '--json', '--state-dir', join(dir, 'state'), '--persistent-xml-dir', xml, '--live-xml-dir', live], { encoding: 'utf8', env: syncEnv });
      if (r.status !== 0) throw new Error(`cache sync: exit ${r.status}: ${r.stderr}`);
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, ...JSON.parse(r.stdout) };
    };
    const first = sync();
    const second = sync();
    if (first.written.length !== size || second.written.length !== 0) throw new Error(`unexpected: ${first.written.length} then ${second.written.length} written`);
    const nPorts = ports.filter((p) => p.d.i < size).length;
    // ports by device_id, subnets (2) and networks (1) by id, floating IPs by port_id
    const expected = Math.ceil(size / 50) + 1 + 1 + Math.ceil(nPorts / 50);
    console.log(
      `  ${String(size).padStart(9)} ${String(nPorts).padStart(6)} ${String(first.requests).padStart(8)} ${String(expected).padStart(8)} ${`${first.ms.toFixed(0)} ms`.padStart(11)} ${`${second.ms.toFixed(0)} ms`.padStart(12)}`,
    );
    if (first.requests !== expected || second.requests !== expected) throw new Error(`request count ${first.requests}/${second.requests}, expected ${expected}`);
  }

  // 2. The periodic run's cost, on the largest size.
  const dir = join(root, `n${N}`);
  const run = (...extra) => {
    const r = spawnSync(process.execPath, [BUNDLE, 'cache', 'sync', '--json', ...extra, '--state-dir', join(dir, 'state'), '--persistent-xml-dir', join(dir, 'xml'), '--live-xml-dir', join(dir, 'live')], { encoding: 'utf8', env: syncEnv });
    if (r.status !== 0) throw new Error(`cache sync: exit ${r.status}: ${r.stderr}`);
    const j = JSON.parse(r.stdout);
    return { ...j, bytes: j.bytesSent + j.bytesReceived };
  };
  // A poll asks for what changed since the last sync less an overlap of 30 s (changes committed
  // after their timestamp): a full sync 31 s after the set-up's last change, so that its polls do
  // not ask about the set-up again, as on a cloud that has been quiet for longer than that.
  await new Promise((resolve) => setTimeout(resolve, 31_000));
  const full = run('--full');
  const quiet = run();
  if (quiet.mode !== 'incremental' || quiet.written.length !== 0) throw new Error(`a quiet poll: ${JSON.stringify(quiet)}`);
  // One floating IP moves to another instance's port: two instances change.
  const fips = (await api('GET', '/v2.0/floatingips')).floatingips;
  const spare = ports.find((p) => p.k === 0 && p.d.i % 2 === 1 && p.d.i < N);
  const moved = fips[0];
  await api('PUT', `/v2.0/floatingips/${moved.id}`, { floatingip: { port_id: null } });
  await api('PUT', `/v2.0/floatingips/${moved.id}`, { floatingip: { port_id: spare.id } });
  const change = run();
  if (change.written.length !== 2) throw new Error(`a poll after a floating IP moved wrote ${change.written.length}, expected 2`);
  const row = (name, r) => console.log(`  ${name.padEnd(34)} ${String(r.requests).padStart(8)} ${String(r.bytesSent).padStart(10)} ${String(r.bytesReceived).padStart(10)} ${String(r.fetched).padStart(8)}`);
  console.log(`\none run, ${N} instances (bytes on the wire, headers included)`);
  console.log(`  ${'run'.padEnd(34)} ${'requests'.padStart(8)} ${'sent'.padStart(10)} ${'received'.padStart(10)} ${'fetched'.padStart(8)}`);
  row('full sync', full);
  row('quiet poll', quiet);
  row('poll after a floating IP moved', change);
  const hour = (changes) => {
    const polls = RUNS_PER_HOUR - 1;
    return {
      requests: full.requests + (polls - changes) * quiet.requests + changes * change.requests,
      bytes: full.bytes + (polls - changes) * quiet.bytes + changes * change.bytes,
    };
  };
  const baseline = { requests: RUNS_PER_HOUR * full.requests, bytes: RUNS_PER_HOUR * full.bytes };
  const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
  const mib = (b) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`\nper host and hour (${RUNS_PER_HOUR} runs: one full sync, the rest polls; Keystone: one token an hour, from the token cache)`);
  for (const [name, h] of [
    ['quiet cloud', hour(0)],
    [`${CHANGES} floating IP moves an hour`, hour(CHANGES)],
    ['baseline: a full sync every minute', baseline],
  ]) {
    console.log(
      `  ${name.padEnd(36)} ${String(h.requests).padStart(6)} requests ${kib(h.bytes).padStart(9)}   ${HOSTS} hosts: ${(h.requests * HOSTS).toLocaleString('en').padStart(9)} requests/h (${((h.requests * HOSTS) / 3600).toFixed(1)}/s), ${mib(h.bytes * HOSTS)}/h   ${(h.bytes / baseline.bytes).toFixed(3)}x the baseline's bytes`,
    );
  }
} catch (err) {
  // Neutron's own account of a 500 is in its log, which goes with the directory.
  spawnSync('tail', ['-n', '40', join(root, 'neutron', 'neutron.log')], { stdio: 'inherit' });
  throw err;
} finally {
  for (const stop of stops) stop();
  spawnSync('bash', [HARNESS, 'stop', join(root, 'neutron')], { stdio: 'inherit' });
  rmSync(root, { recursive: true, force: true });
}
