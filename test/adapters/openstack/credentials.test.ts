/** Where credentials come from: clouds.yaml (and its YAML subset), OS_* variables, the [neutron] section. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYamlSubset } from '../../../src/adapters/openstack/clouds-yaml';
import { resolveOpenStack } from '../../../src/adapters/openstack/credentials';
import { parseIni } from '../../../src/core/ini';
import { InputError } from '../../../src/errors';

const t = suite('openstack credentials');
const NO_INI = new Map<string, Map<string, string>>();

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
    regions: [RegionOne, RegionTwo]
  local:
    auth_type: none
    network_endpoint_override: http://127.0.0.1:9696
`;

t('the YAML subset: nested maps, quotes, comments, flow and block lists', () => {
  const doc = parseYamlSubset(`${CLOUDS}other:\n  - a\n  - 'b'\n`, 'c.yaml');
  const clouds = doc.clouds as Record<string, Record<string, unknown>>;
  assert.is((clouds.devstack?.auth as Record<string, string>).password, "it's # not a comment");
  assert.equal(clouds.appcred?.regions, ['RegionOne', 'RegionTwo']);
  assert.equal(doc.other, ['a', 'b']);
  assert.throws(() => parseYamlSubset('a: &anchor x\n', 'c.yaml'), /c\.yaml:1: unsupported YAML/);
  assert.throws(() => parseYamlSubset('a:\n  b: 1\n    c: 2\n', 'c.yaml'), /c\.yaml:3: unexpected indentation/);
});

t('OS_CLOUD picks the cloud of the first clouds.yaml found; OS_CACERT overrides its cacert', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-clouds-'));
  try {
    const file = join(dir, 'clouds.yaml');
    writeFileSync(file, CLOUDS);
    const paths = [join(dir, 'missing.yaml'), file];
    const c = resolveOpenStack({}, { OS_CLOUD: 'devstack' }, NO_INI, paths);
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
    assert.is(c.interface, 'internal');
    assert.is(c.region, 'RegionOne');
    assert.is(c.caFile, '/etc/ssl/example-ca.pem');
    assert.is(resolveOpenStack({ osCacert: '/flag.pem' }, { OS_CLOUD: 'devstack', OS_CACERT: '/env.pem' }, NO_INI, paths).caFile, '/flag.pem');
    assert.is(resolveOpenStack({}, { OS_CLOUD: 'devstack', OS_CACERT: '/env.pem' }, NO_INI, paths).caFile, '/env.pem');
    const app = resolveOpenStack({ osCloud: 'appcred' }, {}, NO_INI, paths);
    assert.equal(app.auth, { type: 'application_credential', authUrl: 'https://keystone.example.com/v3', id: '4f1e', name: undefined, username: undefined, userDomainName: 'Default', secret: 's3cr3t' });
    const local = resolveOpenStack({ osCloud: 'local' }, {}, NO_INI, paths);
    assert.equal([local.auth, local.endpoint], [{ type: 'none' }, 'http://127.0.0.1:9696']);
    assert.throws(() => resolveOpenStack({ osCloud: 'nope' }, {}, NO_INI, paths), /no cloud named "nope"/);
    assert.throws(() => resolveOpenStack({ osCloud: 'x' }, {}, NO_INI, [join(dir, 'missing.yaml')]), /no clouds\.yaml found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t('OS_* variables', () => {
  const c = resolveOpenStack(
    {},
    { OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'pr', OS_INTERFACE: 'internalURL', OS_REGION_NAME: 'R' },
    NO_INI,
  );
  assert.is(c.auth.type, 'password');
  assert.is(c.interface, 'internal');
  assert.is(c.region, 'R');
  assert.throws(() => resolveOpenStack({}, { OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u' }, NO_INI), /password is missing/);
});

t('the [neutron] section with nova.conf names', () => {
  const ini = parseIni(
    '[neutron]\nauth_type = v3applicationcredential\nauth_url = http://k:5000\napplication_credential_id = id1\napplication_credential_secret = sec\nvalid_interfaces = internal,public\nregion_name = R9\ncafile = /ca.pem\ntimeout = 5\n',
    'nova-ipmeta.conf',
  );
  const c = resolveOpenStack({}, {}, ini);
  assert.is(c.auth.type, 'application_credential');
  assert.equal([c.interface, c.region, c.caFile, c.timeoutMs], ['internal', 'R9', '/ca.pem', 5000]);
  assert.is(c.source, 'the [neutron] section of the config file');
});

t('nothing configured: one clear error naming the three ways', () => {
  try {
    resolveOpenStack({}, {}, NO_INI);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, InputError);
    assert.match((err as Error).message, /OS_CLOUD.*OS_\*.*\[neutron\]/);
  }
  assert.throws(() => resolveOpenStack({}, { OS_AUTH_TYPE: 'none', OS_NETWORK_ENDPOINT_OVERRIDE: '' }, NO_INI), /no Neutron credentials/);
});

t.run();
