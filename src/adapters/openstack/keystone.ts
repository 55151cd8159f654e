/**
 * Keystone v3 token exchange (`POST /v3/auth/tokens`, password or application credential) and
 * the endpoint lookup in the catalog it returns. The token lives in this object's memory only:
 * never written, never logged, never put in an error message or argv.
 */
import { InputError, SystemError } from '../../errors';
import type { Auth } from './credentials';
import { expectJson, HttpStatusError, showUrl, type HttpClient } from './http';

interface CatalogEndpoint {
  interface?: string;
  region_id?: string;
  region?: string;
  url?: string;
}
interface CatalogService {
  type?: string;
  endpoints?: CatalogEndpoint[];
}

export interface Session {
  readonly token: string;
  readonly catalog: readonly CatalogService[];
}

type KeystoneAuth = Exclude<Auth, { type: 'none' }>;

/** The token URL: auth_url as given with or without its /v3. */
export function tokensUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return `${/\/v3$/.test(base) ? base : `${base}/v3`}/auth/tokens`;
}

export function authBody(auth: KeystoneAuth): unknown {
  if (auth.type === 'application_credential') {
    const cred = auth.id !== undefined ? { id: auth.id, secret: auth.secret } : { name: auth.name, secret: auth.secret, user: { name: auth.username, domain: { name: auth.userDomainName } } };
    return { auth: { identity: { methods: ['application_credential'], application_credential: cred } } };
  }
  const user =
    auth.userId !== undefined
      ? { id: auth.userId, password: auth.password }
      : { name: auth.username, domain: auth.userDomainId !== undefined ? { id: auth.userDomainId } : { name: auth.userDomainName }, password: auth.password };
  const project =
    auth.projectId !== undefined
      ? { id: auth.projectId }
      : auth.projectName !== undefined
        ? { name: auth.projectName, domain: auth.projectDomainId !== undefined ? { id: auth.projectDomainId } : { name: auth.projectDomainName } }
        : undefined;
  return { auth: { identity: { methods: ['password'], password: { user } }, ...(project ? { scope: { project } } : {}) } };
}

export async function authenticate(http: HttpClient, auth: KeystoneAuth): Promise<Session> {
  const url = tokensUrl(auth.authUrl);
  const r = await http.send('POST', url, { accept: 'application/json' }, JSON.stringify(authBody(auth)));
  if (r.status === 401) {
    throw new HttpStatusError(401, `POST ${showUrl(url)}: HTTP 401: Keystone rejected the ${auth.type === 'password' ? 'user name or password' : 'application credential'}`);
  }
  if (r.status === 404) throw new InputError(showUrl(url), 'HTTP 404: not a Keystone v3 endpoint; check auth_url');
  const json = expectJson(r, 'POST', url);
  const token = r.headers['x-subject-token'];
  if (typeof token !== 'string' || token === '') throw new SystemError(`POST ${showUrl(url)}: no X-Subject-Token in Keystone's answer`);
  const body = json.token as { catalog?: CatalogService[] } | undefined;
  return { token, catalog: Array.isArray(body?.catalog) ? body.catalog : [] };
}

/** The URL of service `type` for this interface (and region, when given). */
export function catalogEndpoint(catalog: readonly CatalogService[], type: string, iface: string, region: string | undefined): string {
  const services = catalog.filter((s) => s.type === type);
  if (services.length === 0) throw new InputError('catalog', `no ${type} service in Keystone's catalog; set the endpoint by hand`);
  const endpoints = services.flatMap((s) => s.endpoints ?? []).filter((e) => e.interface === iface && (region === undefined || e.region_id === region || e.region === region));
  const url = endpoints[0]?.url;
  if (url === undefined) {
    throw new InputError('catalog', `no ${iface} ${type} endpoint${region === undefined ? '' : ` in region ${JSON.stringify(region)}`} in Keystone's catalog`);
  }
  return url;
}
