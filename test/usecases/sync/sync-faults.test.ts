/**
 * `cache sync` against a small fake Neutron for the protocol faults a real one cannot be made to
 * show (the real one is in neutron-sync.libvirt.test.ts): an answer that drips in a byte at a
 * time, answers that are each slow enough to use up the sync's budget, malformed answers (`id:
 * 12345`, a null port) and a page that cannot be had. Each time: exit 3, one line, and not one
 * cache file changed, not even for the instances whose answers were fine. The domains are XML
 * files (--persistent-xml-dir), the bundle runs as an operator runs it.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runBundleAsync, type Run } from '../../support/cli';
import { NS_1_1 } from '../../support/nova-guest';
import { standInDaemon, type StandInDaemon } from '../../support/stand-in-daemon';

const t = suite('cache sync: protocol faults');
const A = '0a0a0a0a-0000-4000-8000-00000000000a';
const B = '0b0b0b0b-0000-4000-8000-00000000000b';
const port = (id: string, device: string, mac: string, ip: string) => ({ id, mac_address: mac, network_id: 'net', device_id: device, fixed_ips: [{ subnet_id: 'sub', ip_address: ip }] });
const PORT_A = port('aaaaaaaa-0000-4000-8000-000000000001', A, 'fa:16:3e:00:0a:01', '10.0.0.10');
const PORT_B = port('bbbbbbbb-0000-4000-8000-000000000001', B, 'fa:16:3e:00:0b:01', '10.0.0.11');

type Behaviour = (url: URL, res: http.ServerResponse) => void;
let behaviour: Behaviour = () => undefined;
let server: http.Server;
let base = '';
let work = '';
let state = '';
let daemon: StandInDaemon | undefined;
const drips: NodeJS.Timeout[] = [];

function json(res: http.ServerResponse, body: unknown, delayMs = 0): void {
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }, delayMs);
}

/** A Neutron that answers the way it should: A's and B's port, their subnet and network, no floating IP. */
const healthy =
  (delayMs = 0, ports: unknown[] = [PORT_A, PORT_B]): Behaviour =>
  (url, res) => {
    const resource = /\/v2\.0\/(\w+)/.exec(url.pathname)?.[1] ?? '';
    if (resource === 'ports') json(res, { ports }, delayMs);
    else if (resource === 'subnets') json(res, { subnets: [{ id: 'sub', cidr: '10.0.0.0/24', ip_version: 4, gateway_ip: null }] }, delayMs);
    else if (resource === 'networks') json(res, { networks: [{ id: 'net', name: 'private' }] }, delayMs);
    else json(res, { [resource]: [] }, delayMs);
  };

t.before(async () => {
  server = http.createServer((req, res) => {
    behaviour(new URL(req.url ?? '/', 'http://x'), res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  work = mkdtempSync(join(tmpdir(), 'nova-ipmeta-syncfaults-'));
  state = join(work, 'state');
  mkdirSync(state, { mode: 0o700 });
  mkdirSync(join(work, 'xml'));
  mkdirSync(join(work, 'live'));
  // The files answer alone: no libvirt runs in the unit group.
  daemon = await standInDaemon(join(work, 'live'));
  for (const [i, uuid] of [A, B].entries()) {
    writeFileSync(
      join(work, 'xml', `instance-${i}.xml`),
      `<domain type='qemu'><name>instance-${i}</name><uuid>${uuid}</uuid><metadata><nova:instance xmlns:nova="${NS_1_1}"><nova:name>vm${i}</nova:name></nova:instance></metadata><memory unit='MiB'>48</memory><os><type arch='x86_64'>hvm</type></os><devices/></domain>`,
    );
  }
});

t.after(() => {
  daemon?.stop();
  for (const d of drips) clearInterval(d);
  server.closeAllConnections();
  server.close();
  rmSync(work, { recursive: true, force: true });
});

function sync(env: Record<string, string> = {}, config = ''): Promise<Run> {
  const conf = join(work, 'nova-ipmeta.conf');
  writeFileSync(conf, `[DEFAULT]\nstate_dir = ${state}\n[libvirt]\npersistent_xml_dir = ${join(work, 'xml')}\nlive_xml_dir = ${join(work, 'live')}\n${config}`);
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) clean[k] = v;
  // Each a full sync, as the first one on a host is.
  rmSync(join(state, 'cache-sync.json'), { force: true });
  return runBundleAsync(['cache', 'sync'], {
    env: { ...clean, NOVA_IPMETA_CONFIG: conf, OS_AUTH_TYPE: 'none', OS_NETWORK_ENDPOINT_OVERRIDE: base, ...env },
    timeoutMs: 60_000,
  });
}

const cacheFiles = () => {
  const dir = join(state, 'network_info');
  try {
    return readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]);
  } catch {
    return [];
  }
};

function fails(r: Run, message: RegExp, files: string[][]): void {
  assert.is(r.code, 3, `${r.stdout}${r.stderr}`);
  assert.match(r.stderr, message);
  assert.is(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
  assert.not.match(r.stderr, /internal error/);
  assert.equal(cacheFiles(), files, 'no cache file changed');
}

t('a healthy answer writes both instances (the baseline the faults are measured against)', async () => {
  behaviour = healthy();
  const r = await sync();
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^synced 2 instances \(full: no earlier sync state\): 2 written, 0 unchanged, 0 failed \(4 requests\)\n$/);
  assert.equal(cacheFiles().map(([f]) => f), [`${A}.json`, `${B}.json`]);
});

t('a malformed answer (id: 12345, a null port) fails the whole sync before anything is written', async () => {
  const files = cacheFiles();
  const changed = { ...PORT_A, fixed_ips: [{ subnet_id: 'sub', ip_address: '10.0.0.99' }] };
  behaviour = healthy(0, [changed, { ...PORT_B, id: 12345 }]);
  fails(await sync(), /^nova-ipmeta: cache sync: Neutron \(the OS_\* environment variables\): GET http:\/\/127\.0\.0\.1:\d+\/v2\.0\/ports: Neutron's answer: ports\[1\]\.id: 12345 is not a UUID; no cache file changed\n$/, files);
  behaviour = healthy(0, [changed, null]);
  fails(await sync(), /Neutron's answer: ports\[1\]: null is not an object; no cache file changed\n$/, files);
  behaviour = (url, res) => {
    if (url.pathname.endsWith('/subnets')) json(res, { subnets: [{ id: 'sub', cidr: '10.0.0.0/24', ip_version: 5 }] });
    else healthy(0, [changed, PORT_B])(url, res);
  };
  fails(await sync(), /GET [^ ]+\/v2\.0\/subnets: Neutron's answer: subnets\[0\]\.ip_version: 5 is not 4 or 6; no cache file changed\n$/, files);
});

t('a page that cannot be had fails the whole sync', async () => {
  const files = cacheFiles();
  behaviour = (url, res) => {
    if (url.pathname.endsWith('/ports') && url.searchParams.get('marker') === null) json(res, { ports: [{ ...PORT_A, fixed_ips: [] }], ports_links: [{ rel: 'next', href: `${base}/v2.0/ports?marker=p1` }] });
    else if (url.pathname.endsWith('/ports')) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"NeutronError": {"message": "page lost"}}');
    } else healthy()(url, res);
  };
  fails(await sync({}, '[cache_sync]\ntimeout = 30\n'), /GET [^ ]+\/v2\.0\/ports: HTTP 500: page lost \(after 4 attempts\); no cache file changed\n$/, files);
});

t('an answer that drips in forever meets the per-request deadline (an idle timeout never would)', async () => {
  const files = cacheFiles();
  behaviour = (_url, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"ports": [');
    drips.push(setInterval(() => res.write(' '), 200));
  };
  fails(await sync({ OS_API_TIMEOUT: '1' }), /^nova-ipmeta: cache sync: Neutron \([^)]*\): GET [^ ]+\/v2\.0\/ports: no complete answer within 1 s; no cache file changed\n$/, files);
});

t('answers each in time but too slow together use up the sync budget', async () => {
  const files = cacheFiles();
  behaviour = healthy(900);
  fails(await sync({}, '[cache_sync]\ntimeout = 2\n'), /^nova-ipmeta: cache sync: Neutron \([^)]*\): cache sync took longer than its budget of 2 s; no cache file changed\n$/, files);
});

t.run();
