/**
 * Keystone v3 token exchange (`POST /v3/auth/tokens`, password or application credential) and
 * the endpoint lookup in the catalog it returns, as keystoneauth does it. The token is never
 * logged, put in an error message or argv; token-cache.ts keeps it between runs in a file only
 * root can read.
 */
import { InputError, SystemError, quote } from '../../errors';
import type { Auth, Interface } from './credentials';
import { expectJson, HttpStatusError, showUrl, type HttpClient } from './http';

export interface CatalogEndpoint {
  readonly interface?: string;
  readonly region_id?: string;
  readonly region?: string;
  readonly url?: string;
}
export interface CatalogService {
  readonly type?: string;
  readonly name?: string;
  readonly endpoints?: readonly CatalogEndpoint[];
}

export interface Session {
  readonly token: string;
  /** Milliseconds since the epoch; undefined when Keystone did not say. */
  readonly expiresAt: number | undefined;
  readonly issuedAt: number | undefined;
  readonly catalog: readonly CatalogService[];
}

export type KeystoneAuth = Exclude<Auth, { type: 'none' }>;

/** The token URL: auth_url as given with or without its /v3. */
export function tokensUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return `${/\/v3$/.test(base) ? base : `${base}/v3`}/auth/tokens`;
}

export function authBody(auth: KeystoneAuth): unknown {
  const domain = (id: string | undefined, name: string | undefined) => (id !== undefined ? { id } : name !== undefined ? { name } : undefined);
  const user = (extra: Record<string, string>) => {
    if (auth.userId !== undefined) return { id: auth.userId, ...extra };
    const d = domain(auth.userDomainId, auth.userDomainName);
    return { name: auth.username, ...(d ? { domain: d } : {}), ...extra };
  };
  if (auth.type === 'application_credential') {
    const cred = auth.id !== undefined ? { id: auth.id, secret: auth.secret } : { name: auth.name, secret: auth.secret, user: user({}) };
    return { auth: { identity: { methods: ['application_credential'], application_credential: cred } } };
  }
  const project =
    auth.projectId !== undefined
      ? { id: auth.projectId }
      : auth.projectName !== undefined
        ? { name: auth.projectName, domain: domain(auth.projectDomainId, auth.projectDomainName) }
        : undefined;
  return { auth: { identity: { methods: ['password'], password: { user: user({ password: auth.password }) } }, ...(project ? { scope: { project } } : {}) } };
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
  const body = json.token as { catalog?: unknown; expires_at?: unknown; issued_at?: unknown } | undefined;
  return { token, expiresAt: time(body?.expires_at), issuedAt: time(body?.issued_at), catalog: Array.isArray(body?.catalog) ? (body.catalog as CatalogService[]) : [] };
}

export interface EndpointFilter {
  readonly serviceType: string;
  readonly serviceName?: string | undefined;
  readonly interfaces: readonly Interface[];
  readonly region?: string | undefined;
}

/**
 * The URL of the service for the first of `interfaces` the catalog has an endpoint for (in that
 * region, when one is given): keystoneauth's order. It does not fall back to the next interface
 * when the chosen endpoint fails; neither does this.
 */
export function catalogEndpoint(catalog: readonly CatalogService[], f: EndpointFilter): { url: string; interface: Interface } {
  const services = catalog.filter((s) => s.type === f.serviceType && (f.serviceName === undefined || s.name === f.serviceName));
  const named = f.serviceName === undefined ? '' : ` named ${quote(f.serviceName)}`;
  if (services.length === 0) throw new InputError('catalog', `no ${f.serviceType} service${named} in Keystone's catalog; set endpoint_override`);
  const inRegion = services.flatMap((s) => s.endpoints ?? []).filter((e) => f.region === undefined || e.region_id === f.region || e.region === f.region);
  for (const iface of f.interfaces) {
    const url = inRegion.find((e) => e.interface === iface && typeof e.url === 'string')?.url;
    if (url !== undefined) return { url, interface: iface };
  }
  const where = f.region === undefined ? '' : ` in region ${quote(f.region)}`;
  throw new InputError('catalog', `no ${f.interfaces.join(' or ')} ${f.serviceType} endpoint${where} in Keystone's catalog (valid_interfaces, region_name)`);
}

function time(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}
