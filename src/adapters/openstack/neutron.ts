/**
 * The Neutron calls `cache sync` makes, in bulk: ports by `device_id`, subnets and networks by
 * `id`, floating IPs by `port_id`, each a list filter repeated in the query string and chunked
 * (CHUNK values a request) so URLs stay short; and the incremental poll's questions, filtered by
 * `changed_since` and trimmed with `fields` (docs/design.md, "The cache").
 *
 * Every list is read to its end: when Neutron pages its answers (`pagination_max_limit`), each
 * `rel: next` link is followed, its query put on our own endpoint (behind a proxy Neutron may
 * write its links with another host or scheme), until a page has none; a page that cannot be
 * had fails the whole list. Every item of every page is checked (core/neutron-answers.ts)
 * before the caller sees any of it.
 *
 * Tokens: from the token cache when it holds a valid one for these credentials, else from
 * Keystone (then cached); a 401 from Neutron means the token was revoked or expired early: one
 * fresh token, once.
 */
import { InputError, SystemError } from '../../errors';
import type { NeutronFloatingIp, NeutronNetwork, NeutronSubnet, NeutronView } from '../../core/neutron-network-info';
import {
  itemsOf,
  nextLink,
  readFloatingIp,
  readFloatingIpRef,
  readId,
  readNetwork,
  readPort,
  readPortRef,
  readSubnet,
  type FloatingIpRef,
  type Item,
  type PortRef,
  type Resource,
} from '../../core/neutron-answers';
import type { OpenStackConfig } from './credentials';
import { HttpClient, HttpStatusError, showUrl, type HttpOptions } from './http';
import { authenticate, catalogEndpoint, type KeystoneAuth, type Session } from './keystone';
import type { TokenCache } from './token-cache';

export const CHUNK = 50;
/** More pages than any list of one host's ports can need; a server that keeps linking on is broken. */
const MAX_PAGES = 10_000;
/**
 * A token kept between runs keeps its catalog: when Neutron's endpoint from a catalog older than
 * this does not answer, a new token's catalog is looked at once, so a moved endpoint is found
 * within minutes, while a Neutron that is merely down costs a token only this often.
 */
const CATALOG_AGE_MS = 10 * 60_000;

export interface NeutronClientOptions extends Pick<HttpOptions, 'attempts' | 'backoffMs' | 'budget'> {
  readonly tokens?: TokenCache | undefined;
  /** A cached token must stay valid this much longer to be used. */
  readonly tokenMarginMs?: number | undefined;
}

export class NeutronClient {
  readonly http: HttpClient;
  /** Tokens asked of Keystone by this client. */
  tokensIssued = 0;
  /** Neutron's clock at its first answer (its Date header), the basis of the next `changed_since`. */
  firstAnswerAt: Date | undefined;
  private session: Session | undefined;
  /** The session came from the token cache (with the catalog of its day). */
  private cachedSession = false;
  /** A new token was asked for after a failure: not again. */
  private renewed = false;
  private base: string | undefined;

  constructor(
    private readonly config: OpenStackConfig,
    private readonly opts: NeutronClientOptions = {},
  ) {
    this.http = new HttpClient({ tls: config.tls, timeoutMs: config.timeoutMs, attempts: opts.attempts, backoffMs: opts.backoffMs, budget: opts.budget });
  }

  close(): void {
    this.http.close();
  }

  /** Everything needed to build the network_info of these instances. */
  async view(instanceIds: readonly string[]): Promise<NeutronView> {
    const ports = await this.list('ports', readPort, [], 'device_id', instanceIds);
    const subnetIds = unique(ports.flatMap((p) => (p.fixed_ips ?? []).map((f) => f.subnet_id)));
    const networkIds = unique(ports.map((p) => p.network_id));
    const subnets: NeutronSubnet[] = await this.list('subnets', readSubnet, [], 'id', subnetIds);
    const networks: NeutronNetwork[] = await this.list('networks', readNetwork, [], 'id', networkIds);
    const floatingIps: NeutronFloatingIp[] = await this.list('floatingips', readFloatingIp, [], 'port_id', ports.map((p) => p.id));
    return {
      ports,
      subnets: new Map(subnets.map((s) => [s.id, s])),
      networks: new Map(networks.map((n) => [n.id, n])),
      floatingIps,
    };
  }

  /** The ports of these instances changed at or after `since` (id and device_id only). */
  changedPorts(instanceIds: readonly string[], since: string): Promise<PortRef[]> {
    return this.list('ports', readPortRef, [['changed_since', since], ['fields', 'id'], ['fields', 'device_id']], 'device_id', instanceIds);
  }

  /**
   * Every floating IP changed at or after `since`, with no port filter: one taken off a port
   * no longer names it (docs/design.md, "Facts about Neutron and deployments").
   */
  changedFloatingIps(since: string): Promise<FloatingIpRef[]> {
    return this.list('floatingips', readFloatingIpRef, [['changed_since', since], ['fields', 'id'], ['fields', 'port_id']]);
  }

  /** Which of these floating IPs still exist: a deleted one shows in no `changed_since` answer. */
  async existingFloatingIps(ids: readonly string[]): Promise<Set<string>> {
    return new Set(await this.list('floatingips', readId, [['fields', 'id']], 'id', ids));
  }

  /**
   * GET /v2.0/<resource>?<params>&<filter>=a&<filter>=b..., chunked, every page of each chunk.
   * With a filter and no values, nothing is asked (no request).
   */
  async list<T>(resource: Resource, read: (i: Item) => T, params: readonly (readonly [string, string])[], filter?: string, values?: readonly string[]): Promise<T[]> {
    const fixed = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
    const queries: string[] = [];
    if (filter === undefined || values === undefined) queries.push(fixed.join('&'));
    else for (let i = 0; i < values.length; i += CHUNK) queries.push([...fixed, ...values.slice(i, i + CHUNK).map((v) => `${filter}=${encodeURIComponent(v)}`)].join('&'));
    const out: T[] = [];
    for (const query of queries) out.push(...(await this.pages(resource, read, query)));
    return out;
  }

  private async pages<T>(resource: Resource, read: (i: Item) => T, query: string): Promise<T[]> {
    const path = `/v2.0/${resource}`;
    const out: T[] = [];
    const seen = new Set<string>();
    let target = `${path}${query === '' ? '' : `?${query}`}`;
    for (let page = 1; ; page++) {
      const { json, url } = await this.get(target);
      let next: string | undefined;
      try {
        out.push(...itemsOf(json, resource, read));
        next = nextLink(json, resource);
      } catch (err) {
        if (err instanceof InputError) throw new SystemError(`GET ${showUrl(url)}${page > 1 ? ` (page ${page})` : ''}: Neutron's answer: ${err.message}`);
        throw err;
      }
      if (next === undefined) return out;
      // The link's query (filters, marker, limit) on our own endpoint.
      let search: string;
      try {
        search = new URL(next, url).search;
      } catch {
        throw new SystemError(`GET ${showUrl(url)}: Neutron's answer: ${resource}_links: the next link is not a URL`);
      }
      target = `${path}${search}`;
      if (seen.has(target) || page >= MAX_PAGES) throw new SystemError(`GET ${showUrl(url)}: Neutron's next links go round in circles (page ${page})`);
      seen.add(target);
    }
  }

  /** GET the endpoint + `target`; with the URL asked, for messages. */
  private async get(target: string): Promise<{ json: Record<string, unknown>; url: string }> {
    let url = `${await this.endpoint()}${target}`;
    try {
      return { json: this.answered(await this.http.getJson(url, this.headers())), url };
    } catch (err) {
      const auth = this.config.auth;
      // Revoked, or expired before its time: one fresh token, once. A token from the cache came
      // with the catalog of its day: when that endpoint does not answer, a fresh one may name another.
      const rejected = err instanceof HttpStatusError && err.status === 401;
      const unreachable = this.catalogMayBeStale() && (!(err instanceof HttpStatusError) || err.status === 404);
      if (auth.type !== 'none' && this.session && !this.renewed && (rejected || unreachable)) {
        this.renewed = true;
        const before = this.base;
        await this.login(auth);
        this.base = undefined;
        url = `${await this.endpoint()}${target}`;
        if (rejected || this.base !== before) return { json: this.answered(await this.http.getJson(url, this.headers())), url };
      }
      if (err instanceof HttpStatusError && err.status === 404) {
        throw new HttpStatusError(404, `GET ${showUrl(url)}: HTTP 404: not a Neutron API (unknown endpoint ${showUrl(this.base ?? url)}, from ${this.config.endpoint === undefined ? "Keystone's catalog" : this.config.source})`);
      }
      throw err;
    }
  }

  /** A cached token's catalog, old enough that an endpoint may have moved since. */
  private catalogMayBeStale(): boolean {
    return this.cachedSession && this.config.endpoint === undefined && Date.now() - (this.session?.issuedAt ?? 0) > CATALOG_AGE_MS;
  }

  private answered(r: { json: Record<string, unknown>; date: Date | undefined }): Record<string, unknown> {
    this.firstAnswerAt ??= r.date ?? new Date();
    return r.json;
  }

  private headers(): Record<string, string> {
    return this.session ? { 'x-auth-token': this.session.token } : {};
  }

  private async login(auth: KeystoneAuth): Promise<void> {
    this.cachedSession = false;
    this.session = await authenticate(this.http, auth);
    this.tokensIssued++;
    this.opts.tokens?.write(this.session);
  }

  private async endpoint(): Promise<string> {
    const auth = this.config.auth;
    if (auth.type !== 'none' && !this.session) {
      this.session = this.opts.tokens?.read(this.opts.tokenMarginMs ?? 0);
      this.cachedSession = this.session !== undefined;
      if (!this.session) await this.login(auth);
    }
    if (this.base === undefined) {
      const url =
        this.config.endpoint ??
        catalogEndpoint(this.session?.catalog ?? [], {
          serviceType: this.config.serviceType,
          serviceName: this.config.serviceName,
          interfaces: this.config.interfaces,
          region: this.config.region,
        }).url;
      // Catalog URLs may or may not end in /v2.0 (both are seen in the wild).
      this.base = url.replace(/\/+$/, '').replace(/\/v2\.0$/, '');
    }
    return this.base;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
