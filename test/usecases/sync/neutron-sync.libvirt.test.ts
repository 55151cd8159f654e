/**
 * `cache sync` and `reconcile --sync` against a REAL Neutron API server (Debian's python3-neutron,
 * test/support/neutron.sh) and a private libvirt daemon: networks, v4 and v6 subnets, ports with
 * the guests' UUIDs as device_id and their MACs, a router and a floating IP, all made through
 * Neutron's API. What is checked is the `<nova:ports>` libvirt holds afterwards, and the cache
 * files on disk when Neutron is down.
 */

import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { beforeAll } from '../../support/set-up';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../../support/libvirt';
import { PROJECT, startNeutron, type RealNeutron } from '../../support/neutron';
import { startKeystone, type RealKeystone } from '../../support/keystone';
import { runBundle, runBundleAsync, type Run } from '../../support/cli';
import { novaInstance, NS_1_1 } from '../../support/nova-guest';
import { portsOf } from '../../support/ports-of';

const t = suite('cache sync from a real Neutron');
let d: PrivateLibvirt;
let n: RealNeutron;
let k: RealKeystone;
let state: string;

interface Guest {
  name: string;
  uuid: string;
  macs: string[];
  nova: boolean;
}
const guestA: Guest = { name: 'instance-0000000a', uuid: randomUUID(), macs: ['fa:16:3e:0a:00:01', 'fa:16:3e:0a:00:02'], nova: true };
const guestB: Guest = { name: 'instance-0000000b', uuid: randomUUID(), macs: ['fa:16:3e:0b:00:01'], nova: true };
const guestC: Guest = { name: 'instance-0000000c', uuid: randomUUID(), macs: ['fa:16:3e:0c:00:01'], nova: true };
const notNova: Guest = { name: 'build-runner', uuid: randomUUID(), macs: ['fa:16:3e:0d:00:01'], nova: false };

const ids: Record<string, string> = {};
interface SyncReport {
  mode: string;
  why?: string;
  fetched: number;
  written: string[];
  unchanged: number;
  requests: number;
}
let floatingIp = '';

/** The bundle with these OS_* variables only (none of the caller's). */
function cliWith(os: Record<string, string>, args: string[], cwd?: string): Run {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, v] of Object.entries(process.env)) if (!key.startsWith('OS_')) env[key] = v;
  return runBundle([...args, '--connect', d.uri, '--state-dir', state], { env: { ...env, ...os }, ...(cwd ? { cwd } : {}) });
}

/** The bundle against the noauth Neutron, its endpoint set by hand. */
function cli(...args: string[]): Run {
  return cliWith({ OS_AUTH_TYPE: 'none', OS_NETWORK_ENDPOINT_OVERRIDE: n.url }, args);
}

const dev = (mac: string) => `tap${mac.replace(/:/g, '').slice(-8)}-00`;

async function define(g: Guest, start: boolean): Promise<void> {
  const file = join(d.root, `${g.uuid}.xml`);
  const metadata = g.nova ? novaInstance({ ns: NS_1_1, name: g.name }) : '';
  writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: g.macs.map((mac) => ({ mac, dev: dev(mac) })), metadata }));
  await d.virshOk('define', file);
  if (start) await d.virshOk('start', g.uuid);
}

async function create(kind: string, body: Record<string, unknown>): Promise<string> {
  const r = await n.api('POST', `/v2.0/${kind}s`, { [kind]: { project_id: PROJECT, ...body } });
  return (r[kind] as { id: string }).id;
}

async function port(g: Guest, i: number, network: string, fixed: { subnet: string; ip: string }[]): Promise<string> {
  return create('port', {
    network_id: ids[network],
    mac_address: g.macs[i],
    device_id: g.uuid,
    device_owner: 'compute:nova',
    fixed_ips: fixed.map((f) => ({ subnet_id: ids[f.subnet], ip_address: f.ip })),
  });
}

const cacheFile = (g: Guest) => join(state, 'network_info', `${g.uuid}.json`);
const config = (g: Guest) => d.virshOk('dumpxml', '--inactive', g.uuid);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(t, setUp);

async function setUp(): Promise<void> {
  [d, n] = await Promise.all([startPrivateLibvirt(), startNeutron()]);
  cleanupOnExit(d);
  state = mkdtempSync(join(tmpdir(), 'nova-ipmeta-state-'));
  await define(guestA, true);
  await define(guestB, false);
  await define(guestC, false);
  await define(notNova, false);

  ids.public = await create('network', { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' });
  ids.publicV4 = await create('subnet', { network_id: ids.public, cidr: '203.0.113.0/24', ip_version: 4, enable_dhcp: false });
  ids.private = await create('network', { name: 'private' });
  ids.privateV4 = await create('subnet', { network_id: ids.private, cidr: '10.1.0.0/24', ip_version: 4 });
  ids.privateV6 = await create('subnet', {
    network_id: ids.private,
    cidr: 'fd00:1::/64',
    ip_version: 6,
    ipv6_address_mode: 'dhcpv6-stateful',
    ipv6_ra_mode: 'dhcpv6-stateful',
  });
  ids.storage = await create('network', { name: 'storage' });
  ids.storageV4 = await create('subnet', { network_id: ids.storage, cidr: '10.2.0.0/24', ip_version: 4 });
  ids.router = await create('router', { name: 'r1', external_gateway_info: { network_id: ids.public } });
  await n.api('PUT', `/v2.0/routers/${ids.router}/add_router_interface`, { subnet_id: ids.privateV4 });

  ids.a1 = await port(guestA, 0, 'private', [
    { subnet: 'privateV4', ip: '10.1.0.11' },
    { subnet: 'privateV6', ip: 'fd00:1::11' },
  ]);
  await sleep(1100); // created_at has one-second resolution: A's ports in a known order
  ids.a2 = await port(guestA, 1, 'storage', [{ subnet: 'storageV4', ip: '10.2.0.11' }]);
  ids.b1 = await port(guestB, 0, 'private', [{ subnet: 'privateV4', ip: '10.1.0.21' }]);
  // A port of the non-nova domain: never asked for, never cached.
  ids.x1 = await port(notNova, 0, 'storage', [{ subnet: 'storageV4', ip: '10.2.0.99' }]);
  const fip = await n.api('POST', '/v2.0/floatingips', {
    floatingip: { project_id: PROJECT, floating_network_id: ids.public, port_id: ids.a1, fixed_ip_address: '10.1.0.11' },
  });
  k = await startKeystone();
  // Neutron in the catalog: the internal endpoint is the real one, the public one leads nowhere.
  const service = await k.api('POST', '/v3/services', { service: { type: 'network', name: 'neutron' } });
  const serviceId = (service.service as { id: string }).id;
  await k.api('POST', '/v3/endpoints', { endpoint: { service_id: serviceId, interface: 'internal', region_id: 'RegionOne', url: n.url } });
  await k.api('POST', '/v3/endpoints', { endpoint: { service_id: serviceId, interface: 'public', region_id: 'RegionOne', url: 'http://127.0.0.1:9/nowhere' } });
  floatingIp = (fip.floatingip as { floating_ip_address: string; id: string }).floating_ip_address;
  ids.fip = (fip.floatingip as { id: string }).id;
}

t.after(async () => {
  k.destroy();
  n.destroy();
  await d.stop();
  rmSync(state, { recursive: true, force: true });
});

t('cache sync writes each nova instance, and reconcile puts the right <nova:ports> in the XML', async () => {
  const r = cli('cache', 'sync', '--json');
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { instances: number; written: string[]; unchanged: number; requests: number };
  assert.is(report.instances, 3, 'the three nova domains, not the build runner');
  assert.equal([...report.written].sort(), [guestA.uuid, guestB.uuid, guestC.uuid].sort());
  assert.is(report.requests, 4, 'ports, subnets, networks, floating IPs: one request each');
  assert.not.ok(readdirSync(join(state, 'network_info')).includes(`${notNova.uuid}.json`));
  assert.equal(JSON.parse(readFileSync(cacheFile(guestC), 'utf8')), [], 'Neutron answered: C has no ports');
  const a = JSON.parse(readFileSync(cacheFile(guestA), 'utf8')) as { devname: string; address: string; network: { label: string } }[];
  assert.equal(
    a.map((v) => [v.devname, v.address, v.network.label]),
    [
      [`tap${ids.a1?.slice(0, 11) ?? ''}`, guestA.macs[0], 'private'],
      [`tap${ids.a2?.slice(0, 11) ?? ''}`, guestA.macs[1], 'storage'],
    ],
  );

  const rec = cli('reconcile');
  assert.is(rec.code, 0, rec.stderr + rec.stdout);
  assert.equal(portsOf(await d.virshOk('dumpxml', guestA.uuid)), [
    `${ids.a1}: fixed 10.1.0.11, fixed fd00:1::11, floating ${floatingIp}`,
    `${ids.a2}: fixed 10.2.0.11`,
  ]);
  assert.equal(portsOf(await config(guestA)), portsOf(await d.virshOk('dumpxml', guestA.uuid)), 'live and persistent alike');
  assert.equal(portsOf(await config(guestB)), [`${ids.b1}: fixed 10.1.0.21`]);
  assert.equal(portsOf(await config(guestC)), []);
  assert.is(portsOf(await config(notNova)), null);
});

/**
 * A poll asks again about changes up to 30 s older than the last sync (sync-cache.ts, OVERLAP_MS:
 * changes committed a little after their timestamp): waiting that long first makes the earlier
 * steps' changes old news, so that a poll's counts are those of the step under test alone.
 */
const settle = () => sleep(31_000);

t('a poll on a quiet cloud: three near-empty questions, nothing fetched, nothing written', async () => {
  await settle();
  // The first poll after the set-up still asks about its last 30 s (the full sync's overlap).
  assert.is(cli('cache', 'sync').code, 0);
  const before = [guestA, guestB, guestC].map((g) => [readFileSync(cacheFile(g), 'utf8'), statSync(cacheFile(g)).mtimeMs]);
  const r = cli('cache', 'sync', '--json');
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as SyncReport;
  assert.equal([report.mode, report.fetched, report.written, report.unchanged], ['incremental', 0, [], 3]);
  assert.is(report.requests, 3, "ports changed since (one chunk of ids), floating IPs changed since, the known floating IP's existence");
  assert.equal(
    [guestA, guestB, guestC].map((g) => [readFileSync(cacheFile(g), 'utf8'), statSync(cacheFile(g)).mtimeMs]),
    before,
  );
});

t('reconcile --sync brings a floating IP change into the XML in one run', async () => {
  await settle();
  await n.api('PUT', `/v2.0/floatingips/${ids.fip}`, { floatingip: { port_id: null } });
  const before = readFileSync(cacheFile(guestA), 'utf8');
  const dry = cli('reconcile', '--sync', '--dry-run');
  assert.is(dry.code, 0, dry.stderr + dry.stdout);
  assert.match(dry.stderr, /cache sync: 3 instances \(changes only, 1 asked in full\): 1 would be written, 2 unchanged, 0 failed/, dry.stderr);
  assert.is(readFileSync(cacheFile(guestA), 'utf8'), before, '--dry-run writes no cache file either');
  const r = cli('reconcile', '--sync');
  assert.is(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stderr, /cache sync: 3 instances \(changes only, 1 asked in full\): 1 written, 2 unchanged, 0 failed/, r.stderr);
  assert.equal(portsOf(await d.virshOk('dumpxml', guestA.uuid)), [`${ids.a1}: fixed 10.1.0.11, fixed fd00:1::11`, `${ids.a2}: fixed 10.2.0.11`]);
  // and back, for the outage test below
  await n.api('PUT', `/v2.0/floatingips/${ids.fip}`, { floatingip: { port_id: ids.a1, fixed_ip_address: '10.1.0.11' } });
  assert.is(cli('reconcile', '--sync').code, 0);
});

const poll = (...more: string[]) => {
  const r = cli('cache', 'sync', '--json', ...more);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as SyncReport;
};

t('incremental polls see a deleted floating IP and a port attached; a detached port waits for the full sync', async () => {
  await n.api('PUT', `/v2.0/routers/${ids.router}/add_router_interface`, { subnet_id: ids.storageV4 });
  await settle();
  const fip = await n.api('POST', '/v2.0/floatingips', { floatingip: { project_id: PROJECT, floating_network_id: ids.public, port_id: ids.a2, fixed_ip_address: '10.2.0.11' } });
  const second = (fip.floatingip as { id: string; floating_ip_address: string });
  assert.equal(poll().written, [guestA.uuid], 'a floating IP associated');
  await settle();
  await n.api('DELETE', `/v2.0/floatingips/${second.id}`);
  const deleted = poll();
  assert.equal([deleted.mode, deleted.fetched, deleted.written], ['incremental', 1, [guestA.uuid]], 'a deleted floating IP shows in no changed_since answer: its existence is asked');
  assert.not.ok(readFileSync(cacheFile(guestA), 'utf8').includes(second.floating_ip_address));

  await settle();
  const c1 = await port(guestC, 0, 'private', [{ subnet: 'privateV4', ip: '10.1.0.31' }]);
  const attached = poll();
  assert.equal([attached.fetched, attached.written], [1, [guestC.uuid]]);
  assert.equal((JSON.parse(readFileSync(cacheFile(guestC), 'utf8')) as { id: string }[]).map((v) => v.id), [c1]);
  await n.api('PUT', `/v2.0/ports/${c1}`, { port: { device_id: '', device_owner: '' } });
  assert.equal(poll().written, [], 'detached: its interface leaves the domain with it; the cache waits for the full sync');
  const full = poll('--full');
  assert.equal([full.mode, full.why, full.written], ['full', '--full', [guestC.uuid]]);
  assert.equal(JSON.parse(readFileSync(cacheFile(guestC), 'utf8')), []);
  await n.api('DELETE', `/v2.0/ports/${c1}`);
});

t('a port moved from one instance here to another: a poll rewrites the file of the one that held it too', async () => {
  const c1 = await port(guestC, 0, 'private', [{ subnet: 'privateV4', ip: '10.1.0.32' }]);
  assert.ok(poll().written.includes(guestC.uuid));
  await n.api('PUT', `/v2.0/ports/${c1}`, { port: { device_id: guestB.uuid } });
  // The port now names B alone; nothing else of C's changed.
  const moved = poll();
  assert.ok(moved.written.includes(guestB.uuid) && moved.written.includes(guestC.uuid), JSON.stringify(moved));
  assert.equal(JSON.parse(readFileSync(cacheFile(guestC), 'utf8')), [], 'the port left the file of the instance that held it');
  assert.ok((JSON.parse(readFileSync(cacheFile(guestB), 'utf8')) as { id: string }[]).some((v) => v.id === c1));
  await n.api('DELETE', `/v2.0/ports/${c1}`);
  assert.equal(poll('--full').written, [guestB.uuid], "and B's file as it was");
});

t("Neutron's own default, filter_validation on: a poll's changed_since is refused (HTTP 400), so the run is a full sync", () => {
  const files = [guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8'));
  n.stop();
  n.start({ extraConfig: '[DEFAULT]\nfilter_validation = true\n' });
  try {
    // A sync state that calls for a poll: the full sync just made.
    assert.is(cli('cache', 'sync', '--full').code, 0);
    const r = cli('cache', 'sync', '--json');
    assert.is(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as SyncReport & { why?: string };
    assert.equal([report.mode, report.fetched, report.written, report.unchanged], ['full', 3, [], 3]);
    assert.match(report.why ?? '', 'changed_since');
    assert.equal([guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8')), files);
  } finally {
    n.stop();
    n.start();
  }
});

t("pagination: with Neutron's pagination_max_limit every page of every list is read", () => {
  const files = [guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8'));
  n.stop();
  n.start({ extraConfig: '[DEFAULT]\npagination_max_limit = 1\n' });
  try {
    // The first sync on this host: a full one.
    rmSync(join(state, 'cache-sync.json'), { force: true });
    const r = cli('cache', 'sync', '--json');
    assert.is(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as SyncReport;
    assert.equal([report.mode, report.written, report.unchanged], ['full', [], 3], 'the same files as from one page');
    assert.ok(report.requests > 4, `${report.requests} requests: one a page`);
    assert.is((JSON.parse(readFileSync(cacheFile(guestA), 'utf8')) as unknown[]).length, 2, "both of A's ports");
    assert.equal([guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8')), files);
    assert.equal(poll().written, [], 'and the polls page too');
  } finally {
    n.stop();
    n.start();
  }
});

t("a Neutron that drips its answer: the sync ends at its deadline, and the domains are reconciled outside its lock meanwhile", async () => {
  let asked = 0;
  const timers: NodeJS.Timeout[] = [];
  const drip = createServer((_req, res) => {
    asked++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"ports": [');
    timers.push(setInterval(() => res.write(' '), 200));
  });
  await new Promise<void>((r) => drip.listen(0, '127.0.0.1', r));
  const env = (extra: Record<string, string>) => {
    const e: NodeJS.ProcessEnv = {};
    for (const [key, v] of Object.entries(process.env)) if (!key.startsWith('OS_')) e[key] = v;
    return { ...e, ...extra };
  };
  const files = [guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8'));
  try {
    const dripping = env({ OS_AUTH_TYPE: 'none', OS_NETWORK_ENDPOINT_OVERRIDE: `http://127.0.0.1:${(drip.address() as AddressInfo).port}`, OS_API_TIMEOUT: '8' });
    const first = runBundleAsync(['reconcile', '--sync', '--json', '--connect', d.uri, '--state-dir', state], { env: dripping });
    while (asked === 0) await sleep(50);
    // While the first one waits on Neutron, a reconcile gets the lock at once.
    const other = await runBundleAsync(['reconcile', '--wait', '1', '--connect', d.uri, '--state-dir', state], { env: env({}) });
    assert.is(other.code, 0, other.stderr);
    const r = await first;
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, /^nova-ipmeta: cache sync: Neutron \(the OS_\* environment variables\): GET http:\/\/127\.0\.0\.1:\d+\/v2\.0\/ports: no complete answer within 8 s; no cache file changed\n$/);
    assert.is((JSON.parse(r.stdout) as { domains: unknown[] }).domains.length, 4, 'every domain still reconciled');
    assert.equal([guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8')), files);
  } finally {
    for (const timer of timers) clearInterval(timer);
    drip.closeAllConnections();
    drip.close();
  }
});

t('reconcile --auto-sync: no credentials anywhere, no sync; credentials found, a sync', () => {
  const empty = join(state, '..', `empty-${randomUUID()}.conf`);
  writeFileSync(empty, '');
  const none = cliWith({ NOVA_IPMETA_CONFIG: empty }, ['reconcile', '--auto-sync']);
  assert.is(none.code, 0, none.stderr);
  assert.not.match(none.stderr, /cache sync/);
  const found = cliWith({ NOVA_IPMETA_CONFIG: empty, OS_AUTH_TYPE: 'none', OS_NETWORK_ENDPOINT_OVERRIDE: n.url }, ['reconcile', '--auto-sync']);
  assert.is(found.code, 0, found.stderr);
  assert.match(found.stderr, /^nova-ipmeta: cache sync: 3 instances \(changes only, 0 asked in full\): 0 written, 3 unchanged, 0 failed \(\d+ requests\)\n$/);
  rmSync(empty);
});

t('Neutron down: cache sync fails with exit 3 and no file changes; reconcile --sync still reconciles the cache', async () => {
  const files = [guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8'));
  n.stop();
  try {
    const r = cli('cache', 'sync');
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, /ECONNREFUSED.*after 4 attempts.*no cache file changed/);
    assert.equal([guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8')), files, 'files intact');

    // A drifted domain is still repaired from the cache, and the run says the sync failed.
    await d.virshOk('metadata', guestB.uuid, '--uri', NS_1_1, '--key', 'nova', '--set', '<instance><name>x</name></instance>', '--config');
    const rec = cli('reconcile', '--sync', '--json');
    assert.is(rec.code, 3, rec.stderr);
    assert.match(rec.stderr, /cache sync: Neutron/);
    const report = JSON.parse(rec.stdout) as { domains: { domain: string; kind: string }[] };
    assert.is(report.domains.find((o) => o.domain === guestB.name)?.kind, 'repaired');
    assert.equal(portsOf(await config(guestB)), [`${ids.b1}: fixed 10.1.0.21`]);
    assert.equal([guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8')), files, 'files intact');
  } finally {
    n.start();
  }
});

t('an unknown endpoint is a clear error', () => {
  const r = cliWith({ OS_AUTH_TYPE: 'none', OS_NETWORK_ENDPOINT_OVERRIDE: `${n.url}/not-neutron` }, ['cache', 'sync']);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /HTTP 404: not a Neutron API \(unknown endpoint/);
});

const passwordEnv = (password: string) => ({
  OS_AUTH_URL: `${k.url}/v3`,
  OS_USERNAME: 'admin',
  OS_PASSWORD: password,
  OS_PROJECT_NAME: 'admin',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PROJECT_DOMAIN_NAME: 'Default',
  OS_INTERFACE: 'internal',
  OS_REGION_NAME: 'RegionOne',
});

t('real Keystone, password (OS_* variables): the internal Neutron endpoint from the catalog', () => {
  const r = cliWith(passwordEnv(k.password), ['cache', 'sync', '--json']);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { instances: number; unchanged: number; requests: number };
  assert.equal([report.instances, report.unchanged, report.requests], [3, 3, 5], 'one token request, four Neutron requests');
  assert.not.ok((r.stdout + r.stderr).includes(k.password));
});

t('real Keystone, application credential (clouds.yaml, OS_CLOUD)', async () => {
  const userId = await k.adminUserId();
  const made = await k.api('POST', `/v3/users/${userId}/application_credentials`, { application_credential: { name: `nova-ipmeta-${randomUUID()}` } });
  const cred = made.application_credential as { id: string; secret: string };
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-clouds-'));
  try {
    writeFileSync(
      join(dir, 'clouds.yaml'),
      `clouds:\n  test:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: ${k.url}\n      application_credential_id: "${cred.id}"\n      application_credential_secret: "${cred.secret}"\n    region_name: RegionOne\n    interface: internal\n`,
      { mode: 0o600 },
    );
    const r = cliWith({ OS_CLOUD: 'test' }, ['cache', 'sync', '--json'], dir);
    assert.is(r.code, 0, r.stderr);
    assert.is((JSON.parse(r.stdout) as { unchanged: number }).unchanged, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t('real Keystone, wrong password: exit 3, a clear message without the secret, no file changed', () => {
  const files = [guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8'));
  const r = cliWith(passwordEnv('not-the-password-xyz'), ['cache', 'sync']);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /HTTP 401: Keystone rejected the user name or password/);
  assert.not.ok((r.stdout + r.stderr).includes('not-the-password-xyz'));
  assert.equal([guestA, guestB, guestC].map((g) => readFileSync(cacheFile(g), 'utf8')), files);
});

t.run();
