/**
 * Where the Neutron credentials come from, the way OpenStack tools take them. One source is used
 * whole, never mixed key by key (a password from one place with a user from another would be a
 * puzzle to debug), first match wins:
 *   1. `--os-cloud` or OS_CLOUD: that cloud of clouds.yaml (auth:, region_name, interface,
 *      cacert, network_endpoint_override);
 *   2. OS_AUTH_URL or OS_NETWORK_ENDPOINT_OVERRIDE in the environment: the OS_* variables;
 *   3. the `[neutron]` section of the config file, with nova.conf's keystoneauth names
 *      (auth_type, auth_url, username, password, project_name, user_domain_name,
 *      project_domain_name, application_credential_id/_name/_secret, region_name,
 *      valid_interfaces, cafile, endpoint_override, timeout).
 * `--os-cacert` / OS_CACERT then override the CA file of any source. Secrets are read from files
 * and the environment only: no command-line option takes one (the process list is public).
 */
import { InputError } from '../../errors';
import type { Ini } from '../../core/ini';
import { isMap, readCloud, type YamlValue } from './clouds-yaml';

export type Auth =
  /** No Keystone: a Neutron with auth_strategy = noauth, or a token-less proxy. */
  | { readonly type: 'none' }
  | {
      readonly type: 'password';
      readonly authUrl: string;
      readonly username?: string | undefined;
      readonly userId?: string | undefined;
      readonly userDomainName?: string | undefined;
      readonly userDomainId?: string | undefined;
      readonly password: string;
      readonly projectName?: string | undefined;
      readonly projectId?: string | undefined;
      readonly projectDomainName?: string | undefined;
      readonly projectDomainId?: string | undefined;
    }
  | {
      readonly type: 'application_credential';
      readonly authUrl: string;
      readonly id?: string | undefined;
      readonly name?: string | undefined;
      readonly username?: string | undefined;
      readonly userDomainName?: string | undefined;
      readonly secret: string;
    };

export interface OpenStackConfig {
  readonly auth: Auth;
  /** Neutron's base URL (without /v2.0); undefined: from the Keystone catalog. */
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  readonly interface: 'public' | 'internal' | 'admin';
  readonly caFile: string | undefined;
  readonly timeoutMs: number | undefined;
  /** Where these settings came from, for messages. */
  readonly source: string;
}

export interface CredentialFlags {
  readonly osCloud?: string | undefined;
  readonly osCacert?: string | undefined;
}

type Get = (key: string) => string | undefined;

export function resolveOpenStack(flags: CredentialFlags, env: NodeJS.ProcessEnv, ini: Ini, cloudsPaths?: string[]): OpenStackConfig {
  const cloudName = flags.osCloud ?? nonEmpty(env.OS_CLOUD);
  let config: OpenStackConfig;
  if (cloudName !== undefined) {
    const { cloud, path } = readCloud(cloudName, cloudsPaths);
    const auth = cloud.auth !== undefined && isMap(cloud.auth) ? cloud.auth : {};
    const get: Get = (key) => str(auth[key]) ?? str(cloud[key]);
    config = build(get, {
      authType: str(cloud.auth_type),
      region: str(cloud.region_name),
      iface: str(cloud.interface),
      caFile: str(cloud.cacert),
      endpoint: str(cloud.network_endpoint_override),
      timeout: str(cloud.api_timeout),
      source: `${path} cloud ${cloudName}`,
    });
  } else if (nonEmpty(env.OS_AUTH_URL) !== undefined || nonEmpty(env.OS_NETWORK_ENDPOINT_OVERRIDE) !== undefined) {
    const get: Get = (key) => nonEmpty(env[`OS_${key.toUpperCase()}`]);
    config = build(get, {
      authType: get('auth_type'),
      region: get('region_name'),
      iface: get('interface'),
      caFile: get('cacert'),
      endpoint: get('network_endpoint_override'),
      timeout: get('api_timeout'),
      source: 'the OS_* environment',
    });
  } else {
    const section = ini.get('neutron');
    if (!section) {
      throw new InputError('credentials', 'no Neutron credentials: set OS_CLOUD (clouds.yaml), OS_* variables, or a [neutron] section in the config file');
    }
    const get: Get = (key) => nonEmpty(section.get(key));
    config = build(get, {
      authType: get('auth_type'),
      region: get('region_name'),
      iface: get('valid_interfaces')?.split(',')[0]?.trim(),
      caFile: get('cafile'),
      endpoint: get('endpoint_override'),
      timeout: get('timeout'),
      source: 'the [neutron] section of the config file',
    });
  }
  const caFile = flags.osCacert ?? nonEmpty(env.OS_CACERT) ?? config.caFile;
  return { ...config, caFile };
}

interface Common {
  authType: string | undefined;
  region: string | undefined;
  iface: string | undefined;
  caFile: string | undefined;
  endpoint: string | undefined;
  timeout: string | undefined;
  source: string;
}

function build(get: Get, c: Common): OpenStackConfig {
  const where = c.source;
  const iface = (c.iface ?? 'public').replace(/URL$/, '');
  if (iface !== 'public' && iface !== 'internal' && iface !== 'admin') throw new InputError(where, `interface ${JSON.stringify(iface)}: expected public, internal or admin`);
  let timeoutMs: number | undefined;
  if (c.timeout !== undefined) {
    const s = Number(c.timeout);
    if (!(s > 0)) throw new InputError(where, `timeout ${JSON.stringify(c.timeout)}: expected a number of seconds`);
    timeoutMs = s * 1000;
  }
  return { auth: auth(get, c, where), endpoint: c.endpoint, region: c.region, interface: iface, caFile: c.caFile, timeoutMs, source: where };
}

function auth(get: Get, c: Common, where: string): Auth {
  const type = (c.authType ?? (get('application_credential_secret') ? 'v3applicationcredential' : get('auth_url') ? 'password' : 'none'))
    .toLowerCase()
    .replace(/-/g, '_');
  if (type === 'none' || type === 'noauth' || type === 'admin_token') {
    if (c.endpoint === undefined) throw new InputError(where, 'no authentication and no Neutron endpoint: set the endpoint (network_endpoint_override, OS_NETWORK_ENDPOINT_OVERRIDE or endpoint_override)');
    return { type: 'none' };
  }
  const authUrl = get('auth_url');
  if (authUrl === undefined) throw new InputError(where, 'auth_url is missing');
  if (type === 'password' || type === 'v3password') {
    const password = get('password');
    if (password === undefined) throw new InputError(where, 'password is missing');
    if (get('username') === undefined && get('user_id') === undefined) throw new InputError(where, 'username (or user_id) is missing');
    return {
      type: 'password',
      authUrl,
      username: get('username'),
      userId: get('user_id'),
      userDomainName: get('user_domain_name') ?? (get('user_domain_id') ? undefined : 'Default'),
      userDomainId: get('user_domain_id'),
      password,
      projectName: get('project_name') ?? get('tenant_name'),
      projectId: get('project_id') ?? get('tenant_id'),
      projectDomainName: get('project_domain_name') ?? (get('project_domain_id') ? undefined : 'Default'),
      projectDomainId: get('project_domain_id'),
    };
  }
  if (type === 'v3applicationcredential' || type === 'application_credential') {
    const secret = get('application_credential_secret');
    if (secret === undefined) throw new InputError(where, 'application_credential_secret is missing');
    const id = get('application_credential_id');
    const name = get('application_credential_name');
    if (id === undefined && (name === undefined || get('username') === undefined)) {
      throw new InputError(where, 'application_credential_id (or _name with username) is missing');
    }
    return { type: 'application_credential', authUrl, id, name, username: get('username'), userDomainName: get('user_domain_name') ?? 'Default', secret };
  }
  throw new InputError(where, `auth_type ${JSON.stringify(type)}: supported are password, v3applicationcredential and none`);
}

function str(v: YamlValue | undefined): string | undefined {
  return typeof v === 'string' ? nonEmpty(v) : undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
