/**
 * Where credentials come from and what they say: clouds.yaml (openstacksdk's search, secure.yaml,
 * verify/cacert/insecure), OS_* variables, a [neutron] section with keystoneauth's options, and
 * nova-compute's own config (found on a running process's command line, at the usual paths, at
 * kolla's path, at a configured path). Real files and a real process; the same against a real
 * Keystone and Neutron is test/usecases/sync/nova-config.libvirt.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cloudsYamlPaths, parseYamlSubset } from '../../../src/adapters/openstack/clouds-yaml';
import { findCredentials, resolveOpenStack, type CredentialInputs } from '../../../src/adapters/openstack/credentials';
import { findNovaConfig, itemsOf, type NovaConfig } from '../../../src/adapters/openstack/nova-config';
import { parseIni, type Ini } from '../../../src/core/ini';
import { InputError } from '../../../src/errors';

const t = suite('openstack credentials');
const tmp = mkdtempSync(join(tmpdir(), 'nova-ipmeta-creds-'));
let n = 0;
const NO_INI: Ini = new Map();
const EMPTY_PROC = join(tmp, 'empty-proc');
mkdirSync(EMPTY_PROC);

t.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A fresh directory holding these files (paths relative to it). */
function tree(files: Record<string, string>): string {
  const dir = join(tmp, `t${n++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

function inputs(over: Partial<CredentialInputs> = {}): CredentialInputs {
  return { flags: {}, env: {}, ini: NO_INI, configFile: '/etc/nova-ipmeta/nova-ipmeta.conf', novaConfig: () => undefined, clouds: { clouds: [], secure: [] }, ...over };
}

const neutron = (body: string): Ini => parseIni(`[neutron]\n${body}`, 'nova.conf');
const conf = (body: string) => resolveOpenStack(inputs({ ini: neutron(body) }));

const CLOUDS = `# clouds.yaml as openstacksdk documents it
clouds:
  devstack:
    auth:
      auth_url: https://keystone.example.com:5000/v3
      username: "nova"
      password: 'it''s # not a comment'
      project_name: service
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
    identity_api_version: 3
    cacert: /etc/ssl/example-ca.pem
  appcred:
    auth_type: "v3applicationcredential"
    auth:
      auth_url: https://keystone.example.com/v3
      application_credential_id: 4f1e
      application_credential_secret: s3cr3t
    regions: [RegionTwo, RegionOne]
    verify: false
    cacert: /ignored.pem
  local:
    auth_type: none
    auth:
      endpoint: http://127.0.0.1:9696
  secured:
    auth:
      auth_url: https://k/v3
      username: nova
      user_domain_id: default
      project_id: p1
    insecure: true
    cert: /c.pem
    key: /k.pem
    api_timeout: 7
`;

t('the YAML subset: nested maps, quotes, comments, flow and block lists', () => {
  const doc = parseYamlSubset(`${CLOUDS}other:\n  - a\n  - 'b'\n`, 'c.yaml');
  const clouds = doc.clouds as Record<string, Record<string, unknown>>;
  assert.is((clouds.devstack?.auth as Record<string, string>).password, "it's # not a comment");
  assert.equal(clouds.appcred?.regions, ['RegionTwo', 'RegionOne']);
  assert.equal(doc.other, ['a', 'b']);
  assert.throws(() => parseYamlSubset('a: &anchor x\n', 'c.yaml'), /^c\.yaml:1: a: unsupported YAML value/);
  assert.throws(() => parseYamlSubset('a:\n  b: 1\n    c: 2\n', 'c.yaml'), /c\.yaml:3: unexpected indentation/);
});

t("clouds.yaml: openstacksdk's search order, OS_CLIENT_CONFIG_FILE first, secure.yaml merged over it", () => {
  const home = tree({ '.config/openstack/clouds.yaml': CLOUDS, '.config/openstack/secure.yaml': 'clouds:\n  secured:\n    auth:\n      password: from-secure\n' });
  const cwd = tree({ 'clouds.yml': 'clouds:\n  devstack:\n    auth_type: none\n    network_endpoint_override: http://cwd\n' });
  const paths = cloudsYamlPaths({}, cwd, home);
  assert.equal(paths.clouds.slice(0, 3), [join(cwd, 'clouds.yaml'), join(cwd, 'clouds.yml'), join(cwd, 'clouds.json')]);
  assert.ok(paths.clouds.includes('/etc/openstack/clouds.yaml') && paths.clouds.includes('/etc/xdg/openstack/clouds.yaml'));
  // ./clouds.yml comes first
  assert.is(resolveOpenStack(inputs({ env: { OS_CLOUD: 'devstack' }, clouds: paths })).endpoint, 'http://cwd');
  const override = tree({ 'mine.json': JSON.stringify({ clouds: { devstack: { auth_type: 'none', network_endpoint_override: 'http://json', verify: false } } }) });
  const withOverride = cloudsYamlPaths({ OS_CLIENT_CONFIG_FILE: join(override, 'mine.json') }, cwd, home);
  const fromJson = resolveOpenStack(inputs({ env: { OS_CLOUD: 'devstack' }, clouds: withOverride }));
  assert.equal([fromJson.endpoint, fromJson.tls.insecure], ['http://json', true]);
  // secure.yaml's password merged into the cloud of clouds.yaml
  const elsewhere = tree({});
  const secured = resolveOpenStack(inputs({ env: { OS_CLOUD: 'secured' }, clouds: cloudsYamlPaths({}, elsewhere, home) }));
  assert.is(secured.auth.type === 'password' ? secured.auth.password : '', 'from-secure');
  assert.match(secured.source, /cloud "secured" of .*clouds\.yaml with .*secure\.yaml/);
});

t('clouds.yaml: verify, cacert, insecure, cert and key, regions, timeout, as openstacksdk reads them', () => {
  const dir = tree({ 'clouds.yaml': CLOUDS });
  const clouds = { clouds: [join(dir, 'missing.yaml'), join(dir, 'clouds.yaml')], secure: [] };
  const c = resolveOpenStack(inputs({ env: { OS_CLOUD: 'devstack' }, clouds }));
  assert.equal(c.auth, {
    type: 'password',
    authUrl: 'https://keystone.example.com:5000/v3',
    username: 'nova',
    userId: undefined,
    userDomainName: 'Default',
    userDomainId: undefined,
    password: "it's # not a comment",
    projectName: 'service',
    projectId: undefined,
    projectDomainName: 'Default',
    projectDomainId: undefined,
  });
  assert.equal([c.interfaces, c.region, c.tls], [['internal'], 'RegionOne', { caFile: '/etc/ssl/example-ca.pem', insecure: false, certFile: undefined, keyFile: undefined }]);
  assert.is(resolveOpenStack(inputs({ flags: { osCacert: '/flag.pem' }, env: { OS_CLOUD: 'devstack', OS_CACERT: '/env.pem' }, clouds })).tls.caFile, '/flag.pem');
  assert.is(resolveOpenStack(inputs({ env: { OS_CLOUD: 'devstack', OS_CACERT: '/env.pem' }, clouds })).tls.caFile, '/env.pem');
  const app = resolveOpenStack(inputs({ flags: { osCloud: 'appcred' }, clouds }));
  assert.equal(app.auth, { type: 'application_credential', authUrl: 'https://keystone.example.com/v3', id: '4f1e', name: undefined, username: undefined, userId: undefined, userDomainName: undefined, userDomainId: undefined, secret: 's3cr3t' });
  assert.equal([app.region, app.interfaces, app.tls.insecure, app.tls.caFile], ['RegionTwo', ['public'], true, undefined], 'the first region; verify: false wins over cacert');
  const local = resolveOpenStack(inputs({ flags: { osCloud: 'local' }, clouds }));
  assert.equal([local.auth, local.endpoint], [{ type: 'none' }, 'http://127.0.0.1:9696']);
  const secure = tree({ 'secure.yaml': 'clouds:\n  secured:\n    auth:\n      password: pw\n' });
  const sec = resolveOpenStack(inputs({ flags: { osCloud: 'secured' }, clouds: { ...clouds, secure: [join(secure, 'secure.yaml')] } }));
  assert.equal([sec.tls, sec.timeoutMs], [{ caFile: undefined, insecure: true, certFile: '/c.pem', keyFile: '/k.pem' }, 7000]);
  assert.throws(() => resolveOpenStack(inputs({ flags: { osCloud: 'secured' }, clouds })), /password is missing/);
  assert.throws(() => resolveOpenStack(inputs({ flags: { osCloud: 'nope' }, clouds })), /no cloud named "nope"/);
  assert.throws(() => resolveOpenStack(inputs({ flags: { osCloud: 'x' }, clouds: { clouds: [join(dir, 'missing.yaml')], secure: [] } })), /no clouds\.yaml found/);
});

t('OS_* variables', () => {
  const env = { OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'pr', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_ID: 'default', OS_INTERFACE: 'internalURL', OS_REGION_NAME: 'R', OS_INSECURE: 'true' };
  const c = resolveOpenStack(inputs({ env }));
  assert.equal([c.auth.type, c.interfaces, c.region, c.tls.insecure, c.source], ['password', ['internal'], 'R', true, 'the OS_* environment variables']);
  assert.throws(() => resolveOpenStack(inputs({ env: { OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u' } })), /password is missing/);
  // keystoneauth guesses no domain: a user name without one is refused before Keystone is asked
  assert.throws(() => resolveOpenStack(inputs({ env: { ...env, OS_USER_DOMAIN_NAME: '' } })), /username needs its domain/);
  const withDefault = resolveOpenStack(inputs({ env: { ...env, OS_USER_DOMAIN_NAME: '', OS_PROJECT_DOMAIN_ID: '', OS_DEFAULT_DOMAIN_ID: 'dd' } }));
  assert.equal(withDefault.auth.type === 'password' ? [withDefault.auth.userDomainId, withDefault.auth.projectDomainId] : [], ['dd', 'dd'], 'default_domain_id for both');
});

t('[neutron] with keystoneauth options: valid_interfaces in order (nova: internal, public), cafile, insecure, client cert', () => {
  const base = 'auth_type = password\nauth_url = http://k:5000\nusername = nova\nuser_domain_id = default\npassword = pw\nproject_name = service\nproject_domain_name = Default\n';
  assert.equal(conf(base).interfaces, ['internal', 'public'], "nova's default");
  assert.equal(conf(`${base}valid_interfaces = public,  internal\n`).interfaces, ['public', 'internal']);
  assert.throws(() => conf(`${base}valid_interfaces = internalURL\n`), /interface "internalURL": expected public, internal or admin/);
  assert.equal(conf(`${base}cafile = \n`).tls, { caFile: undefined, insecure: false, certFile: undefined, keyFile: undefined }, 'empty cafile: the system CAs');
  assert.equal(conf(`${base}cafile = /ca.pem\ninsecure = True\n`).tls, { caFile: undefined, insecure: true, certFile: undefined, keyFile: undefined }, 'insecure wins');
  assert.throws(() => conf(`${base}insecure = maybe\n`), /insecure "maybe": expected true or false/);
  assert.equal(conf(`${base}certfile = /c.pem\n`).tls.certFile, undefined, 'a certificate without its key is not used');
  assert.equal(conf(`${base}certfile = /c.pem\nkeyfile = /k.pem\n`).tls, { caFile: undefined, insecure: false, certFile: '/c.pem', keyFile: '/k.pem' });
  assert.equal([conf(`${base}timeout = 5\n`).timeoutMs, conf(`${base}region_name = R9\nendpoint_override = http://n:9696\n`).endpoint], [5000, 'http://n:9696']);
  assert.throws(() => conf(base.replace('project_domain_name = Default\n', '')), /project_name needs its domain/);
  const app = conf('auth_type = v3applicationcredential\nauth_url = http://k:5000\napplication_credential_name = ac\nusername = nova\nuser_domain_name = Default\napplication_credential_secret = sec\n');
  assert.equal(app.auth, { type: 'application_credential', authUrl: 'http://k:5000', id: undefined, name: 'ac', username: 'nova', userId: undefined, userDomainName: 'Default', userDomainId: undefined, secret: 'sec' });
  assert.throws(() => conf('auth_type = v3applicationcredential\nauth_url = http://k\napplication_credential_name = ac\napplication_credential_secret = s\n'), /needs its user/);
  assert.throws(() => conf('auth_type = token\nauth_url = http://k\n'), /auth_type "token": supported are/);
  // auth_section: the auth options live in another section
  const split = resolveOpenStack(inputs({ ini: parseIni(`[neutron]\nauth_section = ks\nvalid_interfaces = admin\n[ks]\n${base}`, 'nova.conf') }));
  assert.equal([split.auth.type, split.interfaces], ['password', ['admin']]);
});

t("[neutron]: values as oslo.config gives them to nova, $ references substituted (a $ in a password is written $$)", () => {
  const ini = parseIni(
    '[DEFAULT]\nmy_ip = 10.0.0.5\n[neutron]\nauth_section = ks\nregion_name = ${keystone_authtoken.region_name}\n[ks]\nauth_url = http://$my_ip:5000/v3\nusername = nova\nuser_domain_id = default\npassword = s3cr$$t\\$x\nproject_id = p1\n[keystone_authtoken]\nregion_name = RegionTwo\n',
    'nova.conf',
  );
  const c = resolveOpenStack(inputs({ ini }));
  assert.equal([c.auth.type === 'password' && c.auth.authUrl, c.auth.type === 'password' && c.auth.password, c.region], ['http://10.0.0.5:5000/v3', 's3cr$t$x', 'RegionTwo']);
  assert.throws(() => conf('auth_url = http://$host_ip:5000\n'), /\[neutron\] auth_url: \$host_ip names an option the config files do not set/);
});

t('one source, whole, first found: OS_CLOUD, OS_*, our [neutron], nova-compute; none: one line naming where it looked', () => {
  const dir = tree({ 'clouds.yaml': CLOUDS });
  const clouds = { clouds: [join(dir, 'clouds.yaml')], secure: [] };
  const nova: NovaConfig = { ini: neutron('auth_type = none\nendpoint_override = http://nova'), files: ['/etc/nova/nova.conf'], origin: 'nova-compute (pid 7)' };
  let asked = 0;
  const novaConfig = () => {
    asked++;
    return nova;
  };
  const ours = neutron('auth_type = none\nendpoint_override = http://ours');
  const label = (i: Partial<CredentialInputs>) => findCredentials(inputs({ clouds, novaConfig, ...i }))?.label;
  assert.match(label({ env: { OS_CLOUD: 'local', OS_AUTH_URL: 'http://k' }, ini: ours }) ?? '', /^cloud "local" of /);
  assert.is(label({ env: { OS_NETWORK_ENDPOINT_OVERRIDE: 'http://env', OS_AUTH_TYPE: 'none' }, ini: ours }), 'the OS_* environment variables');
  assert.is(label({ ini: ours }), '[neutron] of /etc/nova-ipmeta/nova-ipmeta.conf');
  assert.is(asked, 0, "nova-compute's config is not even looked for when another source is given");
  assert.is(label({}), "[neutron] of nova-compute's config: nova-compute (pid 7), /etc/nova/nova.conf");
  assert.is(resolveOpenStack(inputs({ novaConfig })).endpoint, 'http://nova');
  try {
    resolveOpenStack(inputs({}));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, InputError);
    assert.match((err as Error).message, /^credentials: no Neutron credentials found: no OS_CLOUD .*no \[neutron\] in \/etc\/nova-ipmeta\/nova-ipmeta\.conf, and no nova-compute config \(a running nova-compute, \/etc\/nova/);
  }
});

const K = (password: string) => `[neutron]\nauth_type = password\nauth_url = http://k\nusername = neutron\nuser_domain_id = default\nproject_id = p\npassword = ${password}\n`;
const passwordOf = (c: NovaConfig | undefined) => c?.ini.get('neutron')?.get('password');

t("nova-compute's config at the usual paths: nova.conf, nova-compute.conf, then the conf.d directories, later winning", () => {
  const root = tree({
    'etc/nova/nova.conf': K('from-nova.conf'),
    'etc/nova/nova-compute.conf': '[neutron]\nregion_name = R\n',
    'etc/nova/nova.conf.d/90-last.conf': '[neutron]\npassword = from-90\n',
    'etc/nova/nova.conf.d/10-first.conf': '[neutron]\npassword = from-10\n',
    'etc/nova/nova.conf.d/.hidden.conf': '[neutron]\npassword = hidden\n',
    'etc/nova/nova.conf.d/README': 'not a .conf',
    'etc/kolla/nova-compute/nova.conf': K('kolla'),
  });
  const c = findNovaConfig([], { procDir: EMPTY_PROC, root });
  assert.equal(c?.files, ['/etc/nova/nova.conf', '/etc/nova/nova-compute.conf', '/etc/nova/nova.conf.d/10-first.conf', '/etc/nova/nova.conf.d/90-last.conf']);
  assert.is(passwordOf(c), 'from-90');
  assert.is(c?.ini.get('neutron')?.get('region_name'), 'R');
  assert.is(c?.origin, 'the usual paths of nova-compute');
  // kolla-ansible's copy on the host, when /etc/nova has none
  const kolla = findNovaConfig([], { procDir: EMPTY_PROC, root: tree({ 'etc/kolla/nova-compute/nova.conf': K('kolla') }) });
  assert.equal([kolla?.files, passwordOf(kolla), kolla?.origin], [['/etc/kolla/nova-compute/nova.conf'], 'kolla', "kolla-ansible's copy on the host"]);
});

t('a configured path: files, and directories read as --config-dir; missing or unreadable: one line', () => {
  const root = tree({ 'srv/nova/nova.conf': K('base'), 'srv/nova/conf.d/50.conf': '[neutron]\npassword = override\n' });
  const c = findNovaConfig(['/srv/nova/nova.conf', '/srv/nova/conf.d'], { procDir: EMPTY_PROC, root });
  assert.equal([c?.files, passwordOf(c), c?.origin], [['/srv/nova/nova.conf', '/srv/nova/conf.d/50.conf'], 'override', '[cache_sync] nova_config']);
  assert.is(findNovaConfig([], { procDir: EMPTY_PROC, root }), undefined);
  const fifo = join(root, 'srv/nova/fifo.conf');
  spawnSync('mkfifo', [fifo]);
  for (const [path, message] of [
    ['/srv/nova/missing.conf', /^\/srv\/nova\/missing\.conf: cannot read \[cache_sync\] nova_config's config: ENOENT \(no such file or directory\)$/],
    ['/srv/nova/fifo.conf', /^\/srv\/nova\/fifo\.conf: cannot read \[cache_sync\] nova_config's config: ENOTREG \(not a regular file\)$/],
  ] as const) {
    try {
      findNovaConfig([path], { procDir: EMPTY_PROC, root });
      assert.unreachable();
    } catch (err) {
      assert.instance(err, InputError);
      assert.match((err as Error).message, message);
    }
  }
  const unparsable = tree({ 'srv/nova.conf': '[neutron]\npassword hunter2\n' });
  assert.throws(() => findNovaConfig(['/srv/nova.conf'], { procDir: EMPTY_PROC, root: unparsable }), (err: Error) => /^\/srv\/nova\.conf:2: expected/.test(err.message) && !err.message.includes('hunter2'));
});

t("oslo.config's order for a command line: its default files unless --config-file is given, its default dirs unless --config-dir is", () => {
  const all = () => true;
  assert.equal(itemsOf(['/usr/bin/python3', '/usr/bin/nova-compute'], all).map((i) => `${i.kind} ${i.path}`), [
    'file /etc/nova/nova.conf',
    'file /etc/nova/nova-compute.conf',
    'dir /etc/nova/nova.conf.d',
    'dir /etc/nova/nova-compute.conf.d',
  ]);
  // Ubuntu's packages: the two files named; the default directories still come first, then the files override
  assert.equal(itemsOf(['nova-compute', '--config-file=/etc/nova/nova.conf', '--config-file', '/etc/nova/nova-compute.conf'], all).map((i) => `${i.kind} ${i.path}`), [
    'dir /etc/nova/nova.conf.d',
    'dir /etc/nova/nova-compute.conf.d',
    'file /etc/nova/nova.conf',
    'file /etc/nova/nova-compute.conf',
  ]);
  assert.equal(itemsOf(['nova-compute', '--config-dir', '/d', '--config-file', 'rel.conf'], () => false).map((i) => `${i.kind} ${i.path}`), ['dir /d', 'file rel.conf']);
});

t('a running nova-compute: the files on its command line, a relative one from its working directory', async () => {
  const dir = tree({
    'bin/nova-compute': '#!/bin/sh\nsleep 600\n',
    'work/etc/nova.conf': K('from-argv'),
    'conf.d/20-override.conf': '[neutron]\npassword = from-config-dir\n',
    'elsewhere/nova.conf': K('not-this-one'),
  });
  chmodSync(join(dir, 'bin/nova-compute'), 0o755);
  const child = spawn(join(dir, 'bin/nova-compute'), ['--config-file', 'etc/nova.conf', `--config-dir=${join(dir, 'conf.d')}`], { cwd: join(dir, 'work'), detached: true, stdio: 'ignore' });
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  try {
    const c = findNovaConfig([join(dir, 'elsewhere/nova.conf')], { procDir: '/proc', root: tree({}) });
    assert.is(c?.origin, `nova-compute (pid ${child.pid ?? 0})`);
    assert.equal(c?.files.slice(-2), ['etc/nova.conf', `${join(dir, 'conf.d')}/20-override.conf`]);
    assert.is(passwordOf(c), 'from-config-dir', 'the directory after the file');
  } finally {
    process.kill(-(child.pid ?? 0), 'SIGKILL');
  }
});

t.run();
