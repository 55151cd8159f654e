/**
 * Where the Neutron credentials come from, the way OpenStack's own tools take them
 * (docs/design.md, "Settings and their precedence"). One source is used whole, never mixed key by
 * key (a password from one place with a user from another would be a puzzle to debug); the first
 * found wins:
 *   1. `--os-cloud` or OS_CLOUD: that cloud of clouds.yaml, as openstacksdk reads it
 *      (clouds-yaml.ts; `auth_type`, `auth:`, `region_name`/`regions`, `interface`,
 *      `network_endpoint_override`, `cacert`, `verify`, `insecure`, `cert`/`key`, `api_timeout`);
 *   2. OS_AUTH_URL or OS_NETWORK_ENDPOINT_OVERRIDE in the environment: the OS_* variables, the
 *      same keys in upper case;
 *   3. a `[neutron]` section in our config file;
 *   4. nova-compute's own config (nova-config.ts), its `[neutron]` section.
 * 3 and 4 have keystoneauth's option names, read as keystoneauth's `load_*_from_conf_options` reads
 * them: `auth_type` (and `auth_section`, a section holding the auth options instead), the plugin's
 * options, `valid_interfaces` (a list tried in order: the first interface the catalog has an
 * endpoint for; nova's default `internal, public`), `region_name`, `endpoint_override`,
 * `service_type`, `service_name`, `cafile` (empty: the system CAs), `insecure` (wins over
 * `cafile`), `certfile` with `keyfile`, `timeout`.
 *
 * Auth types: `password`/`v3password` (user by id, or by name with its domain; project by id, or
 * by name with its domain; `default_domain_*` for both domains, as keystoneauth's generic plugin
 * does) and `v3applicationcredential` (by id, or by name with its user), and `none` with an
 * explicit endpoint. `--os-cacert` / OS_CACERT override the CA file of any source. Secrets are
 * read from files and the environment only: no command-line option takes one (argv is public).
 */
import { InputError, quote } from '../../errors';
import { optionValue, sectionName, type Ini } from '../../core/ini';
import { cloudsYamlPaths, isMap, readCloud, yamlBoolean, type CloudsFiles, type YamlValue } from './clouds-yaml';
import { novaConfigPlaces, type NovaConfig } from './nova-config';

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
      readonly userId?: string | undefined;
      readonly userDomainName?: string | undefined;
      readonly userDomainId?: string | undefined;
      readonly secret: string;
    };

export type Interface = 'public' | 'internal' | 'admin';

export interface TlsOptions {
  /** PEM bundle to verify servers with; undefined: the system's CAs. */
  readonly caFile: string | undefined;
  /** No verification at all (keystoneauth's `insecure`, openstacksdk's `verify: false`). */
  readonly insecure: boolean;
  /** A client certificate and its key, both or neither. */
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

export interface OpenStackConfig {
  readonly auth: Auth;
  /** Neutron's base URL (with or without /v2.0); undefined: from the Keystone catalog. */
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  /** Tried in order: the first one the catalog has a Neutron endpoint for. */
  readonly interfaces: readonly Interface[];
  readonly serviceType: string;
  readonly serviceName: string | undefined;
  readonly tls: TlsOptions;
  /** Each request's deadline; undefined: the client's default. */
  readonly timeoutMs: number | undefined;
  /** Where these settings came from, for messages and `doctor`. */
  readonly source: string;
}

export interface CredentialFlags {
  readonly osCloud?: string | undefined;
  readonly osCacert?: string | undefined;
}

export interface CredentialInputs {
  readonly flags: CredentialFlags;
  readonly env: NodeJS.ProcessEnv;
  /** Our config file, parsed, and its path for messages. */
  readonly ini: Ini;
  readonly configFile: string;
  /** nova-compute's config, looked for only when nothing before it is given. */
  readonly novaConfig: () => NovaConfig | undefined;
  readonly clouds?: CloudsFiles;
}

/** A source that was found: what it is, and its settings (throws InputError when they are incomplete). */
export interface CredentialSource {
  readonly label: string;
  config(): OpenStackConfig;
}

const NOVA_INTERFACES: readonly Interface[] = ['internal', 'public'];
const SDK_INTERFACES: readonly Interface[] = ['public'];

/** The first source found, or undefined when there is none. */
export function findCredentials(inputs: CredentialInputs): CredentialSource | undefined {
  const { flags, env } = inputs;
  const withCacert = (c: OpenStackConfig): OpenStackConfig => {
    const caFile = flags.osCacert ?? nonEmpty(env.OS_CACERT);
    return caFile === undefined ? c : { ...c, tls: { ...c.tls, caFile } };
  };
  const cloudName = flags.osCloud ?? nonEmpty(env.OS_CLOUD);
  if (cloudName !== undefined) {
    const { cloud, path, secure } = readCloud(cloudName, inputs.clouds ?? cloudsYamlPaths(env));
    const label = `cloud ${quote(cloudName)} of ${path}${secure === undefined ? '' : ` with ${secure}`}`;
    const auth = cloud.auth !== undefined && isMap(cloud.auth) ? cloud.auth : {};
    // openstacksdk: an auth option at the top of the cloud wins over the one under auth:.
    const get: Get = (key) => str(cloud[key]) ?? str(auth[key]);
    const top: Get = (key) => str(cloud[key]);
    return { label, config: () => withCacert(fromSdk(top, get, label, { authEndpoint: str(auth.endpoint), firstRegion: firstRegion(cloud.regions) })) };
  }
  if (nonEmpty(env.OS_AUTH_URL) !== undefined || nonEmpty(env.OS_NETWORK_ENDPOINT_OVERRIDE) !== undefined) {
    const get: Get = (key) => nonEmpty(env[`OS_${key.toUpperCase()}`]);
    return { label: 'the OS_* environment variables', config: () => withCacert(fromSdk(get, get, 'the OS_* environment variables', {})) };
  }
  if (inputs.ini.has('neutron')) {
    const label = `[neutron] of ${inputs.configFile}`;
    return { label, config: () => withCacert(fromConf(inputs.ini, label, inputs.configFile)) };
  }
  const nova = inputs.novaConfig();
  if (nova) {
    const label = `[neutron] of nova-compute's config: ${nova.origin}, ${nova.files.join(', ')}`;
    return { label, config: () => withCacert(fromConf(nova.ini, label, nova.files.at(-1) ?? 'nova.conf')) };
  }
  return undefined;
}

/** The credentials to use; InputError when there are none or they are incomplete. */
export function resolveOpenStack(inputs: CredentialInputs): OpenStackConfig {
  const source = findCredentials(inputs);
  if (!source) throw new InputError('credentials', `no Neutron credentials found: ${whereLooked(inputs.configFile)}`);
  return source.config();
}

export function whereLooked(configFile: string): string {
  return `no OS_CLOUD (clouds.yaml), no OS_AUTH_URL (OS_* variables), no [neutron] in ${configFile}, and no nova-compute config (${novaConfigPlaces()})`;
}

type Get = (key: string) => string | undefined;

/**
 * clouds.yaml and OS_*: openstacksdk's keys. `top`: the cloud's own keys; `get`: an auth option,
 * from the top or from auth:. `insecure` wins over `verify`, which wins over `cacert`.
 */
function fromSdk(top: Get, get: Get, where: string, extra: { authEndpoint?: string | undefined; firstRegion?: string | undefined }): OpenStackConfig {
  const iface = top('network_interface') ?? top('interface');
  const insecure = bool(top('insecure'), 'insecure', where) === true || bool(top('verify'), 'verify', where) === false;
  const certFile = top('cert');
  // auth_type none: auth: endpoint is every service's endpoint.
  const endpoint = top('network_endpoint_override') ?? top('network_endpoint') ?? (top('auth_type') === 'none' ? extra.authEndpoint : undefined);
  return {
    auth: authOf(top('auth_type'), get, where, endpoint),
    endpoint,
    region: top('region_name')?.split(',')[0] ?? extra.firstRegion,
    interfaces: iface === undefined ? SDK_INTERFACES : [interfaceOf(iface.replace(/URL$/, ''), where)],
    serviceType: 'network',
    serviceName: top('network_service_name'),
    tls: { caFile: insecure ? undefined : top('cacert'), insecure, certFile, keyFile: certFile === undefined ? undefined : top('key') },
    timeoutMs: seconds(top('api_timeout'), 'api_timeout', where),
    source: where,
  };
}

/** Our [neutron] or nova's: keystoneauth's conf options (session, adapter, auth plugin). */
function fromConf(ini: Ini, where: string, file: string): OpenStackConfig {
  // Every value as oslo.config gives it to nova, `$` references substituted.
  const conf: Get = (key) => nonEmpty(optionValue(ini, 'neutron', key, where));
  const authSection = conf('auth_section');
  const authKeys = authSection === undefined ? 'neutron' : sectionName(authSection);
  if (authSection !== undefined && !ini.has(authKeys)) throw new InputError(file, `[neutron] auth_section = ${authSection}: no such section`);
  const auth: Get = (key) => nonEmpty(optionValue(ini, authKeys, key, where));
  const list = optionValue(ini, 'neutron', 'valid_interfaces', where);
  const interfaces = list === undefined ? NOVA_INTERFACES : splitList(list).map((i) => interfaceOf(i, `${where}: valid_interfaces`));
  if (interfaces.length === 0) throw new InputError(where, 'valid_interfaces is empty');
  const insecure = bool(conf('insecure'), 'insecure', where) === true;
  const certFile = conf('certfile');
  const keyFile = conf('keyfile');
  return {
    auth: authOf(auth('auth_type'), auth, where, conf('endpoint_override')),
    endpoint: conf('endpoint_override'),
    region: conf('region_name'),
    interfaces,
    serviceType: conf('service_type') ?? 'network',
    serviceName: conf('service_name'),
    // keystoneauth: insecure wins; an empty cafile means the system's CAs; a certificate only with its key.
    tls: { caFile: insecure ? undefined : conf('cafile'), insecure, certFile: keyFile === undefined ? undefined : certFile, keyFile: certFile === undefined ? undefined : keyFile },
    timeoutMs: seconds(conf('timeout'), 'timeout', where),
    source: where,
  };
}

function authOf(authType: string | undefined, get: Get, where: string, endpoint: string | undefined): Auth {
  const type = (authType ?? (get('application_credential_secret') ? 'v3applicationcredential' : get('auth_url') ? 'password' : 'none')).toLowerCase().replace(/-/g, '_');
  if (type === 'none' || type === 'noauth') {
    if (endpoint === undefined) throw new InputError(where, 'auth_type none needs the Neutron endpoint (endpoint_override, network_endpoint_override or OS_NETWORK_ENDPOINT_OVERRIDE)');
    return { type: 'none' };
  }
  const authUrl = get('auth_url');
  if (authUrl === undefined) throw new InputError(where, 'auth_url is missing');
  // keystoneauth's generic plugins fall back to default_domain_* for both the user's and the project's domain.
  const defaultId = get('default_domain_id');
  const defaultName = get('default_domain_name');
  const userDomainId = get('user_domain_id') ?? (get('user_domain_name') === undefined ? defaultId : undefined);
  const userDomainName = get('user_domain_name') ?? (userDomainId === undefined ? defaultName : undefined);
  const needsUserDomain = () => {
    if (get('user_id') === undefined && userDomainId === undefined && userDomainName === undefined) {
      throw new InputError(where, 'username needs its domain: user_domain_name or user_domain_id (or default_domain_*) is missing');
    }
  };
  if (type === 'password' || type === 'v3password') {
    const password = get('password');
    if (password === undefined) throw new InputError(where, 'password is missing');
    if (get('username') === undefined && get('user_id') === undefined) throw new InputError(where, 'username (or user_id) is missing');
    needsUserDomain();
    const projectName = get('project_name') ?? get('tenant_name');
    const projectId = get('project_id') ?? get('tenant_id');
    const projectDomainId = get('project_domain_id') ?? (get('project_domain_name') === undefined ? defaultId : undefined);
    const projectDomainName = get('project_domain_name') ?? (projectDomainId === undefined ? defaultName : undefined);
    if (projectId === undefined && projectName !== undefined && projectDomainId === undefined && projectDomainName === undefined) {
      throw new InputError(where, 'project_name needs its domain: project_domain_name or project_domain_id (or default_domain_*) is missing');
    }
    return {
      type: 'password',
      authUrl,
      username: get('username'),
      userId: get('user_id'),
      userDomainName,
      userDomainId,
      password,
      projectName: projectId === undefined ? projectName : undefined,
      projectId,
      projectDomainName: projectId === undefined ? projectDomainName : undefined,
      projectDomainId: projectId === undefined ? projectDomainId : undefined,
    };
  }
  if (type === 'v3applicationcredential' || type === 'application_credential') {
    const secret = get('application_credential_secret');
    if (secret === undefined) throw new InputError(where, 'application_credential_secret is missing');
    const id = get('application_credential_id');
    const name = get('application_credential_name');
    if (id === undefined) {
      if (name === undefined) throw new InputError(where, 'application_credential_id (or _name with its user) is missing');
      if (get('username') === undefined && get('user_id') === undefined) throw new InputError(where, 'application_credential_name needs its user: username or user_id is missing');
      needsUserDomain();
    }
    return { type: 'application_credential', authUrl, id, name, username: get('username'), userId: get('user_id'), userDomainName, userDomainId, secret };
  }
  throw new InputError(where, `auth_type ${quote(type)}: supported are password, v3password, v3applicationcredential and none`);
}

function interfaceOf(value: string, where: string): Interface {
  if (value === 'public' || value === 'internal' || value === 'admin') return value;
  throw new InputError(where, `interface ${quote(value)}: expected public, internal or admin`);
}

/** oslo.config's ListOpt: comma-separated, each item stripped, empty items dropped. */
function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** oslo.config's BoolOpt and YAML's booleans alike (true/yes/on/1, false/no/off/0). */
function bool(value: string | undefined, key: string, where: string): boolean | undefined {
  if (value === undefined) return undefined;
  const b = value === '1' ? true : value === '0' ? false : yamlBoolean(value);
  if (b === undefined) throw new InputError(where, `${key} ${quote(value)}: expected true or false`);
  return b;
}

function seconds(value: string | undefined, key: string, where: string): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  if (!(s > 0) || !Number.isFinite(s)) throw new InputError(where, `${key} ${quote(value)}: expected a number of seconds`);
  return s * 1000;
}

function str(v: YamlValue | undefined): string | undefined {
  return typeof v === 'string' ? nonEmpty(v) : undefined;
}

/** `regions:` names regions, or maps with a `name`; without region_name the first is used. */
function firstRegion(regions: YamlValue | undefined): string | undefined {
  const first = Array.isArray(regions) ? regions[0] : undefined;
  return first !== undefined && isMap(first) ? str(first.name) : str(first);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
