/**
 * `cache sync` with no credentials of its own, from nova-compute's config, against a REAL
 * Keystone and a REAL Neutron (test/support/keystone.ts, neutron.ts): nova.conf files as
 * kolla-ansible, openstack-ansible and devstack write them, found through a running
 * nova-compute's command line (a stand-in process named nova-compute, one of them in a private
 * mount namespace so that only /proc/PID/root reaches its file) and by a configured path; the
 * catalog's internal and public Neutron endpoints differ (the public one leads nowhere), so each
 * test shows which one was used; TLS with a private CA made here with openssl; the token kept
 * between runs and renewed when Keystone revokes it; and the failures an operator meets, each one
 * line with no cache file changed. The domains are XML files (no libvirt call is needed to list
 * them); what is checked is the cache on disk and what the command printed. The real oslo.config
 * reads the same generated files as src/core/ini.ts at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { PROJECT, startNeutron, type RealNeutron } from '../../support/neutron';
import { startKeystone, type RealKeystone } from '../../support/keystone';
import { beforeAll } from '../../support/set-up';
import { copyBundle, fixturePath, runBundle, type Run } from '../../support/cli';
import { NS_1_1 } from '../../support/nova-guest';
import { standInDaemon, type StandInDaemon } from '../../support/stand-in-daemon';
import { optionValue, parseIni } from '../../../src/core/ini';

const t = suite("cache sync from nova-compute's own config");
let n: RealNeutron;
let k: RealKeystone;
let work: string;
let state: string;
/** The XML files answer alone: the sync's instances come from them, no libvirt needed. */
let daemon: StandInDaemon | undefined;
const NEUTRON_PASSWORD = `np-${randomUUID()}`;
const NOWHERE = 'http://127.0.0.1:9/nowhere';
const instances = [randomUUID(), randomUUID()];
let internalEndpointId = '';
const procs: ChildProcess[] = [];

const cacheDir = () => join(state, 'network_info');
/** Every cache file's text and mtime: what "no cache file changed" compares. */
const snapshot = () => (existsSync(cacheDir()) ? readdirSync(cacheDir()).sort().map((f) => [f, readFileSync(join(cacheDir(), f), 'utf8'), statSync(join(cacheDir(), f)).mtimeMs]) : []);

/** A nova.conf fixture with this test's Keystone and secrets filled in. */
function novaConf(fixture: string, extra = '', values: Record<string, string> = {}): string {
  let text = readFileSync(fixturePath(`nova-conf/${fixture}`), 'utf8');
  for (const [key, v] of Object.entries({ AUTH_URL: k.url, PASSWORD: NEUTRON_PASSWORD, ...values })) text = text.split(`@${key}@`).join(v);
  return extra === '' ? text : `${text}\n${extra}\n`;
}

function writeFile(path: string, text: string, mode = 0o600): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text, { mode });
  return path;
}

/** Our own config: the state and the domains' XML here; `extra` adds sections ([cache_sync] nova_config...). */
function ourConfig(extra = ''): string {
  return writeFile(join(work, `nova-ipmeta-${randomUUID()}.conf`), `[DEFAULT]\nstate_dir = ${state}\n[libvirt]\nlive_xml_dir = ${join(work, 'live')}\npersistent_xml_dir = ${join(work, 'xml')}\n${extra}`, 0o644);
}

/** The bundle with our config, and none of the caller's OS_* variables. */
function cli(args: string[], opts: { config?: string } = {}): Run {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, v] of Object.entries(process.env)) if (!key.startsWith('OS_')) env[key] = v;
  env.NOVA_IPMETA_CONFIG = opts.config ?? ourConfig();
  env.HOME = work;
  return runBundle(args, { env, cwd: work });
}

const sync = (config: string, ...more: string[]) => cli(['cache', 'sync', '--json', ...more], { config });
const report = (r: Run) => JSON.parse(r.stdout) as { source: string; written: string[]; unchanged: number; tokens: number; requests: number; mode: string };

/** A stand-in nova-compute: a shell script of that name, so its comm is nova-compute, as a Python script's is. */
async function novaCompute(args: string[], opts: { namespaceSetup?: string; stdin?: string } = {}): Promise<ChildProcess> {
  const script = writeFile(join(work, 'bin', 'nova-compute'), '#!/bin/sh\nsleep 3600\n', 0o755);
  const child = opts.namespaceSetup
    ? spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${opts.namespaceSetup}\nexec "$0" "$@"`, script, ...args], { detached: true, stdio: ['pipe', 'ignore', 'inherit'] })
    : spawn(script, args, { detached: true, stdio: 'ignore', cwd: work });
  procs.push(child);
  if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  // Until the script runs, the process is unshare or sh.
  for (let i = 0; i < 200 && readComm(child.pid) !== 'nova-compute'; i++) await new Promise((r) => setTimeout(r, 25));
  assert.is(readComm(child.pid), 'nova-compute');
  return child;
}

function readComm(pid: number | undefined): string {
  try {
    return readFileSync(`/proc/${pid ?? 0}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function stop(child: ChildProcess): void {
  try {
    process.kill(-(child.pid ?? 0), 'SIGKILL');
  } catch {
    // gone
  }
}

beforeAll(t, setUp);

async function setUp(): Promise<void> {
  work = mkdtempSync(join(tmpdir(), 'nova-ipmeta-novaconf-'));
  chmodSync(work, 0o755);
  state = join(work, 'state');
  mkdirSync(state, { mode: 0o700 });
  mkdirSync(join(work, 'live'));
  mkdirSync(join(work, 'xml'));
  daemon = await standInDaemon(join(work, 'live'));
  [n, k] = await Promise.all([startNeutron(), startKeystone()]);
  // Keystone as a deployment has it: a service project, a neutron user with the admin role there.
  const project = (await k.api('POST', '/v3/projects', { project: { name: 'service', domain_id: 'default' } })).project as { id: string };
  const user = (await k.api('POST', '/v3/users', { user: { name: 'neutron', domain_id: 'default', password: NEUTRON_PASSWORD } })).user as { id: string };
  const roles = (await k.api('GET', '/v3/roles?name=admin')).roles as { id: string }[];
  await k.api('PUT', `/v3/projects/${project.id}/users/${user.id}/roles/${roles[0]?.id ?? ''}`);
  const service = (await k.api('POST', '/v3/services', { service: { type: 'network', name: 'neutron' } })).service as { id: string };
  const internal = await k.api('POST', '/v3/endpoints', { endpoint: { service_id: service.id, interface: 'internal', region_id: 'RegionOne', url: n.url } });
  internalEndpointId = (internal.endpoint as { id: string }).id;
  await k.api('POST', '/v3/endpoints', { endpoint: { service_id: service.id, interface: 'public', region_id: 'RegionOne', url: NOWHERE } });

  const create = async (kind: string, body: Record<string, unknown>) => ((await n.api('POST', `/v2.0/${kind}s`, { [kind]: { project_id: PROJECT, ...body } }))[kind] as { id: string }).id;
  const net = await create('network', { name: 'private' });
  const subnet = await create('subnet', { network_id: net, cidr: '10.9.0.0/24', ip_version: 4 });
  for (const [i, uuid] of instances.entries()) {
    await create('port', { network_id: net, device_id: uuid, device_owner: 'compute:nova', mac_address: `fa:16:3e:09:00:0${i}`, fixed_ips: [{ subnet_id: subnet, ip_address: `10.9.0.1${i}` }] });
    writeFileSync(
      join(work, 'xml', `instance-0000090${i}.xml`),
      `<domain type='qemu'><name>instance-0000090${i}</name><uuid>${uuid}</uuid><metadata><nova:instance xmlns:nova="${NS_1_1}"><nova:name>vm${i}</nova:name></nova:instance></metadata><memory unit='MiB'>48</memory><os><type arch='x86_64'>hvm</type></os><devices/></domain>`,
    );
  }
}

t.after(() => {
  daemon?.stop();
  for (const p of procs) stop(p);
  k.destroy();
  n.destroy();
  rmSync(work, { recursive: true, force: true });
});

t.after.each(async () => {
  for (const p of procs.splice(0)) {
    const gone = p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((resolve) => p.once('exit', resolve));
    stop(p);
    await gone;
  }
});

t("kolla-ansible's nova.conf at a configured path: quoted values, ':', an empty cafile; the internal endpoint", () => {
  const path = writeFile(join(work, 'kolla', 'nova.conf'), novaConf('kolla-ansible.conf'));
  const r = sync(ourConfig(`[cache_sync]\nnova_config = ${path}\n`), '--full');
  assert.is(r.code, 0, r.stderr);
  const rep = report(r);
  assert.is(rep.source, `[neutron] of nova-compute's config: [cache_sync] nova_config, ${path}`);
  assert.equal([...rep.written].sort(), [...instances].sort());
  const vifs = JSON.parse(readFileSync(join(cacheDir(), `${instances[1] ?? ''}.json`), 'utf8')) as { address: string; network: { subnets: { ips: { address: string }[] }[] } }[];
  assert.equal(vifs.map((v) => [v.address, v.network.subnets[0]?.ips[0]?.address]), [['fa:16:3e:09:00:01', '10.9.0.11']]);
  assert.not.ok((r.stdout + r.stderr).includes(NEUTRON_PASSWORD));
});

t('valid_interfaces is tried in order: public first leads to the public endpoint, which the catalog says is elsewhere', () => {
  const before = snapshot();
  const path = writeFile(join(work, 'kolla-public', 'nova.conf'), novaConf('kolla-ansible.conf').replace('valid_interfaces = internal', 'valid_interfaces = public, internal'));
  const r = sync(ourConfig(`[cache_sync]\nnova_config = ${path}\n`), '--full');
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /^nova-ipmeta: cache sync: Neutron \([^\n]*\): GET http:\/\/127\.0\.0\.1:9\/nowhere\/v2\.0\/ports: ECONNREFUSED \(after 4 attempts\); no cache file changed\n$/);
  assert.equal(snapshot(), before);
});

t("openstack-ansible's nova.conf on a running nova-compute's command line, a --config-dir overriding its stale password", async () => {
  const conf = writeFile(join(work, 'osa', 'nova.conf'), novaConf('openstack-ansible.conf'));
  writeFile(join(work, 'osa', 'nova.conf.d', '50-neutron.conf'), `[neutron]\npassword = ${NEUTRON_PASSWORD}\n`);
  writeFile(join(work, 'osa', 'nova.conf.d', '10-earlier.conf'), '[neutron]\npassword = overridden-by-50\n');
  const p = await novaCompute(['--config-file', conf, '--config-dir', join(work, 'osa', 'nova.conf.d')]);
  const r = sync(ourConfig(), '--full');
  assert.is(r.code, 0, r.stderr);
  assert.match(report(r).source, new RegExp(`nova-compute \\(pid ${p.pid ?? 0}\\), ${conf}, ${join(work, 'osa/nova.conf.d/10-earlier.conf')}, ${join(work, 'osa/nova.conf.d/50-neutron.conf')}$`));
  // doctor says which source is used, and who it authenticates as
  const doctor = cli(['doctor', '--json']);
  const check = (JSON.parse(doctor.stdout) as { checks: { check: string; status: string; detail: string }[] }).checks.find((c) => c.check === 'credentials');
  assert.is(check?.status, 'ok');
  assert.match(check?.detail ?? '', new RegExp(`^\\[neutron\\] of nova-compute's config: nova-compute \\(pid ${p.pid ?? 0}\\), .*: user neutron at ${k.url}, internal, public endpoint from the catalog$`));
  assert.not.ok(doctor.stdout.includes(NEUTRON_PASSWORD));
});

t("devstack's nova.conf, `--config-file=` relative to nova-compute's working directory; nova's default interfaces", async () => {
  writeFile(join(work, 'devstack', 'nova.conf'), novaConf('devstack.conf'));
  const p = await novaCompute(['--config-file=devstack/nova.conf']);
  const r = sync(ourConfig(), '--full');
  assert.is(r.code, 0, r.stderr);
  assert.match(report(r).source, new RegExp(`nova-compute \\(pid ${p.pid ?? 0}\\), devstack/nova.conf$`));
});

t('an application credential', async () => {
  const userId = await k.adminUserId();
  const made = await k.api('POST', `/v3/users/${userId}/application_credentials`, { application_credential: { name: `nova-${randomUUID()}` } });
  const cred = made.application_credential as { id: string; secret: string };
  const path = writeFile(join(work, 'appcred', 'nova.conf'), novaConf('application-credential.conf', '', { APPCRED_ID: cred.id, APPCRED_SECRET: cred.secret }));
  const r = sync(ourConfig(`[cache_sync]\nnova_config = ${path}\n`), '--full');
  assert.is(r.code, 0, r.stderr);
  assert.not.ok((r.stdout + r.stderr).includes(cred.secret));
});

t('nova-compute in a private mount namespace: its nova.conf is read through /proc/PID/root', async () => {
  const dir = join(work, 'container-etc');
  mkdirSync(dir);
  const p = await novaCompute(['--config-file', join(dir, 'nova.conf')], {
    namespaceSetup: `mount -t tmpfs tmpfs ${dir} && cat > ${dir}/nova.conf`,
    stdin: novaConf('kolla-ansible.conf'),
  });
  assert.not.ok(existsSync(join(dir, 'nova.conf')), 'not there from the host');
  const r = sync(ourConfig(), '--full');
  assert.is(r.code, 0, r.stderr);
  assert.match(report(r).source, new RegExp(`nova-compute \\(pid ${p.pid ?? 0}\\), ${dir}/nova.conf$`));
});

t('the token is kept between runs (0600, never printed) and renewed when Keystone revokes it', () => {
  const path = writeFile(join(work, 'token', 'nova.conf'), novaConf('devstack.conf'));
  const config = ourConfig(`[cache_sync]\nnova_config = ${path}\n`);
  rmSync(join(state, 'keystone-token.json'), { force: true });
  const first = sync(config);
  assert.is(first.code, 0, first.stderr);
  assert.is(report(first).tokens, 1);
  const file = join(state, 'keystone-token.json');
  assert.is(statSync(file).mode & 0o777, 0o600);
  const token = (JSON.parse(readFileSync(file, 'utf8')) as { token: string }).token;
  const second = sync(config);
  assert.is(second.code, 0, second.stderr);
  assert.is(report(second).tokens, 0, 'no Keystone request');
  for (const r of [first, second]) assert.not.ok((r.stdout + r.stderr).includes(token));
});

t('behind keystonemiddleware, a revoked token gets a 401 and one new token', async () => {
  const path = writeFile(join(work, 'revoke', 'nova.conf'), novaConf('devstack.conf'));
  const config = ourConfig(`[cache_sync]\nnova_config = ${path}\n`);
  const warm = sync(config);
  assert.is(warm.code, 0, warm.stderr);
  const token = (JSON.parse(readFileSync(join(state, 'keystone-token.json'), 'utf8')) as { token: string }).token;
  n.stop();
  n.start({
    extraConfig: [
      '[DEFAULT]',
      'auth_strategy = keystone',
      '[keystone_authtoken]',
      `www_authenticate_uri = ${k.url}/v3`,
      `auth_url = ${k.url}/v3`,
      'auth_type = password',
      'project_domain_name = Default',
      'user_domain_name = Default',
      'project_name = admin',
      'username = admin',
      `password = ${k.password}`,
      // every request asks Keystone, so a revocation shows at once
      'token_cache_time = -1',
    ].join('\n'),
  });
  try {
    const cached = sync(config, '--full');
    assert.is(cached.code, 0, cached.stderr);
    assert.is(report(cached).tokens, 0, 'the cached token, accepted by Neutron');
    await k.api('DELETE', '/v3/auth/tokens', undefined, { 'x-subject-token': token });
    const renewed = sync(config, '--full');
    assert.is(renewed.code, 0, renewed.stderr);
    assert.is(report(renewed).tokens, 1, 'a 401, then one new token');
    assert.is(report(sync(config, '--full')).tokens, 0, 'and that one kept');
  } finally {
    n.stop();
    n.start();
  }
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all made here. */
function makePki(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=nova-ipmeta test CA');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name === 'server' ? '127.0.0.1' : 'nova-compute'}`);
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`));
  }
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

t('TLS with a private CA: cafile trusts it; an empty cafile (the system CAs) does not; insecure; a client certificate', async () => {
  const pki = makePki(join(work, 'pki'));
  const tlsConf = (extra: string) => writeFile(join(work, `tls-${randomUUID()}`, 'nova.conf'), novaConf('kolla-ansible.conf').replace('cafile = \n', '').replace('[neutron]\n', `[neutron]\n${extra}\n`));
  const run = (extra: string) => sync(ourConfig(`[cache_sync]\nnova_config = ${tlsConf(extra)}\n`), '--full');
  const serve = (clientCa: boolean) => {
    n.stop();
    n.start({ https: true, extraConfig: `[DEFAULT]\nuse_ssl = true\n[ssl]\ncert_file = ${pki.serverCert}\nkey_file = ${pki.serverKey}\n${clientCa ? `ca_file = ${pki.ca}\n` : ''}` });
  };
  await k.api('PATCH', `/v3/endpoints/${internalEndpointId}`, { endpoint: { url: n.url.replace('http:', 'https:') } });
  // A kept token keeps its catalog (a fresh one is looked at when that catalog is older than minutes).
  rmSync(join(state, 'keystone-token.json'), { force: true });
  try {
    serve(false);
    const before = snapshot();
    const ok = run(`cafile = ${pki.ca}`);
    assert.is(ok.code, 0, ok.stderr);
    const system = run('cafile = ');
    assert.is(system.code, 3, system.stderr);
    assert.match(system.stderr, /^nova-ipmeta: cache sync: Neutron \([^\n]*\): GET https:\/\/127\.0\.0\.1:\d+\/v2\.0\/ports: TLS verification failed \([A-Z_]+\); give the CA file \(cafile, cacert, --os-cacert or OS_CACERT\); no cache file changed\n$/);
    assert.equal(snapshot(), before, 'no cache file changed');
    const insecure = run('insecure = True');
    assert.is(insecure.code, 0, insecure.stderr);

    serve(true);
    const noCert = run(`cafile = ${pki.ca}`);
    assert.is(noCert.code, 3, noCert.stderr);
    assert.match(noCert.stderr, /cache sync: Neutron .*(refused the TLS handshake|ECONNRESET|EPIPE)/);
    const withCert = run(`cafile = ${pki.ca}\ncertfile = ${pki.clientCert}\nkeyfile = ${pki.clientKey}`);
    assert.is(withCert.code, 0, withCert.stderr);
  } finally {
    n.stop();
    n.start();
    await k.api('PATCH', `/v3/endpoints/${internalEndpointId}`, { endpoint: { url: n.url } });
    rmSync(join(state, 'keystone-token.json'), { force: true });
  }
});

t("a missing or unreadable nova.conf, a wrong password, a Keystone that is down: one line each, no cache file changed", () => {
  const before = snapshot();
  const oneLine = (r: Run, code: number, pattern: RegExp) => {
    assert.is(r.code, code, r.stderr);
    assert.match(r.stderr, pattern);
    assert.is(r.stderr.split('\n').length, 2, r.stderr);
    assert.is(r.stdout, '');
    assert.not.ok(r.stderr.includes(NEUTRON_PASSWORD));
    assert.equal(snapshot(), before, 'no cache file changed');
  };
  oneLine(sync(ourConfig(`[cache_sync]\nnova_config = ${join(work, 'nowhere/nova.conf')}\n`)), 2, /^nova-ipmeta: .*nowhere\/nova\.conf: cannot read \[cache_sync\] nova_config's config: ENOENT \(no such file or directory\)\n$/);

  // root reads every file: the operator running it without root cannot
  const secret = writeFile(join(work, 'private', 'nova.conf'), novaConf('kolla-ansible.conf'));
  chmodSync(join(work, 'private'), 0o755);
  const config = ourConfig(`[cache_sync]\nnova_config = ${secret}\n`);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, NOVA_IPMETA_CONFIG: config, HOME: '/nonexistent' };
  // A copy of the program that user can read (the checkout may be in root's 0700 home).
  const bundle = join(work, 'nova-ipmeta.cjs');
  copyBundle(bundle);
  chmodSync(bundle, 0o755);
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bundle, 'cache', 'sync'], { encoding: 'utf8', env, cwd: '/' });
  oneLine({ code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }, 2, /^nova-ipmeta: .*private\/nova\.conf: cannot read \[cache_sync\] nova_config's config: EACCES \(permission denied\)\n$/);

  const wrong = writeFile(join(work, 'wrong', 'nova.conf'), novaConf('kolla-ansible.conf', '', { PASSWORD: 'not-the-password-xyz' }));
  const bad = sync(ourConfig(`[cache_sync]\nnova_config = ${wrong}\n`), '--full');
  oneLine(bad, 3, /^nova-ipmeta: cache sync: Neutron \([^\n]*\): POST http:\/\/127\.0\.0\.1:\d+\/v3\/auth\/tokens: HTTP 401: Keystone rejected the user name or password; no cache file changed\n$/);
  assert.not.ok(bad.stderr.includes('not-the-password-xyz'));

  const good = writeFile(join(work, 'down', 'nova.conf'), novaConf('kolla-ansible.conf'));
  k.stop();
  try {
    rmSync(join(state, 'keystone-token.json'), { force: true });
    oneLine(sync(ourConfig(`[cache_sync]\nnova_config = ${good}\n`), '--full'), 3, /^nova-ipmeta: cache sync: Neutron \([^\n]*\): POST http:\/\/127\.0\.0\.1:\d+\/v3\/auth\/tokens: ECONNREFUSED \(after 4 attempts\); no cache file changed\n$/);
  } finally {
    k.start();
  }
});

t('src/core/ini.ts reads generated files as the real oslo.config does', () => {
  const line = fc.oneof(
    fc.constantFrom('[neutron]', '[DEFAULT]', '[Neutron]', '', '   ', '# c', '; c', '  continued', '\tcontinued'),
    fc
      .tuple(fc.constantFrom('a', 'b', ' a ', 'auth_url'), fc.constantFrom('=', ':', ' = ', ': '), fc.constantFrom('v', '"q"', "'q'", '"q', 'x:y=z', ' spaced ', '', 'a # b', '"'))
      .map(([key, sep, value]) => `${key}${sep}${value}`),
  );
  const files = fc.sample(fc.array(line, { minLength: 1, maxLength: 12 }).map((l) => `[DEFAULT]\n${l.join('\n')}\n`), { numRuns: 150, seed: 42 });
  const py = `
import json, sys
from oslo_config import iniparser
class P(iniparser.BaseParser):
    def __init__(self):
        self.sections = {}
        self.section = None
    def new_section(self, s):
        self.section = s if s == 'DEFAULT' else s.lower()
        self.sections.setdefault(self.section, {})
    def assignment(self, k, v):
        self.sections[self.section][k] = '\\n'.join(v)
out = []
for text in json.load(sys.stdin):
    p = P()
    try:
        p.parse(text.splitlines(True))
        out.append(p.sections)
    except iniparser.ParseError:
        out.append(None)
print(json.dumps(out))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(files), encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const oslo = JSON.parse(r.stdout) as (Record<string, Record<string, string>> | null)[];
  files.forEach((text, i) => {
    let ours: Record<string, Record<string, string>> | null;
    try {
      ours = Object.fromEntries([...parseIni(text, 'f')].map(([s, keys]) => [s, Object.fromEntries(keys)]));
    } catch {
      ours = null;
    }
    assert.equal(ours, oslo[i], JSON.stringify(text));
  });
});


t("src/core/ini.ts optionValue substitutes $ references as the real oslo.config does", () => {
  // Each option the files set is registered where it is set (a StrOpt, as keystoneauth's are).
  const piece = fc.constantFrom('v', '$a', '${b}', '$$', '\\$', '$', '$1', '$neutron.a', '${DEFAULT.b}', '$c', '${zz}', '$a.', ':', '-', '$$a');
  const value = fc.array(piece, { minLength: 0, maxLength: 4 }).map((p) => p.join(''));
  const section = fc.dictionary(fc.constantFrom('a', 'b', 'c'), value, { maxKeys: 3 });
  const files = fc.sample(fc.tuple(section, section), { numRuns: 150, seed: 7 }).map(([d, n]) =>
    ['[DEFAULT]', ...Object.entries(d).map(([k, v]) => `${k} = ${v}`), '[neutron]', ...Object.entries(n).map(([k, v]) => `${k} = ${v}`), ''].join('\n'),
  );
  const py = `
import json, sys, tempfile, os
from oslo_config import cfg, iniparser
out = []
for text in json.load(sys.stdin):
    fd, path = tempfile.mkstemp(suffix='.conf')
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    sections, section = {}, None
    for line in text.splitlines():
        if line.startswith('['):
            section = line[1:-1]
            sections.setdefault(section, [])
        elif '=' in line:
            sections[section].append(line.split('=', 1)[0].strip())
    conf = cfg.ConfigOpts()
    for group, keys in sections.items():
        for k in keys:
            conf.register_opt(cfg.StrOpt(k), group=None if group == 'DEFAULT' else group)
    conf(args=[], default_config_files=[path], default_config_dirs=[])
    got = {}
    for group, keys in sections.items():
        for k in keys:
            try:
                got[group + ' ' + k] = (conf[k] if group == 'DEFAULT' else conf[group][k])
            except Exception:
                got[group + ' ' + k] = None
    os.unlink(path)
    out.append(got)
print(json.dumps(out))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(files), encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const oslo = JSON.parse(r.stdout) as Record<string, string | null>[];
  files.forEach((text, i) => {
    const ini = parseIni(text, 'f');
    const ours: Record<string, string | null> = {};
    for (const [name, keys] of ini) {
      for (const key of keys.keys()) {
        try {
          ours[`${name} ${key}`] = optionValue(ini, name, key, 'f') ?? null;
        } catch {
          ours[`${name} ${key}`] = null;
        }
      }
    }
    assert.equal(ours, oslo[i], text);
  });
});

t.run();
