/**
 * The Neutron calls `cache sync` makes, in bulk: ports by `device_id`, subnets and networks by
 * `id`, floating IPs by `port_id`, each a list filter repeated in the query string and chunked
 * (CHUNK values a request) so URLs stay short. The request count is a function of the number of
 * chunks, not of the instances.
 */
import { SystemError } from '../../errors';
import type { NeutronFloatingIp, NeutronNetwork, NeutronPort, NeutronSubnet, NeutronView } from '../../core/neutron-network-info';
import type { OpenStackConfig } from './credentials';
import { HttpClient, HttpStatusError, showUrl } from './http';
import { authenticate, catalogEndpoint, type Session } from './keystone';

export const CHUNK = 50;

export class NeutronClient {
  readonly http: HttpClient;
  private session: Session | undefined;
  private base: string | undefined;

  constructor(
    private readonly config: OpenStackConfig,
    opts: { attempts?: number; backoffMs?: number } = {},
  ) {
    this.http = new HttpClient({ caFile: config.caFile, ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}), ...opts });
  }

  /** Everything needed to build the network_info of these instances. */
  async view(instanceIds: readonly string[]): Promise<NeutronView> {
    const ports = await this.list<NeutronPort>('ports', 'device_id', instanceIds);
    const subnetIds = unique(ports.flatMap((p) => (p.fixed_ips ?? []).map((f) => f.subnet_id)));
    const networkIds = unique(ports.map((p) => p.network_id));
    const subnets = await this.list<NeutronSubnet>('subnets', 'id', subnetIds);
    const networks = await this.list<NeutronNetwork>('networks', 'id', networkIds);
    const floatingIps = await this.list<NeutronFloatingIp>('floatingips', 'port_id', ports.map((p) => p.id));
    return {
      ports,
      subnets: new Map(subnets.map((s) => [s.id, s])),
      networks: new Map(networks.map((n) => [n.id, n])),
      floatingIps,
    };
  }

  /** GET /v2.0/<resource>?<filter>=a&<filter>=b..., chunked; [] for no values (no request). */
  async list<T>(resource: 'ports' | 'subnets' | 'networks' | 'floatingips', filter: string, values: readonly string[]): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < values.length; i += CHUNK) {
      const query = values
        .slice(i, i + CHUNK)
        .map((v) => `${filter}=${encodeURIComponent(v)}`)
        .join('&');
      const json = await this.get(`/v2.0/${resource}?${query}`);
      const items = json[resource];
      if (!Array.isArray(items)) throw new SystemError(`GET ${resource}: Neutron's answer has no "${resource}" list`);
      out.push(...(items as T[]));
    }
    return out;
  }

  private async get(path: string): Promise<Record<string, unknown>> {
    const base = await this.endpoint();
    const url = `${base}${path}`;
    try {
      return await this.http.getJson(url, this.headers());
    } catch (err) {
      // A token may expire during a long run: one fresh token, once.
      if (err instanceof HttpStatusError && err.status === 401 && this.config.auth.type !== 'none') {
        this.session = undefined;
        await this.endpoint();
        return this.http.getJson(url, this.headers());
      }
      if (err instanceof HttpStatusError && err.status === 404) {
        throw new HttpStatusError(404, `GET ${showUrl(url)}: HTTP 404: not a Neutron API (unknown endpoint ${showUrl(base)}, from ${this.config.endpoint === undefined ? "Keystone's catalog" : this.config.source})`);
      }
      throw err;
    }
  }

  private headers(): Record<string, string> {
    return this.session ? { 'x-auth-token': this.session.token } : {};
  }

  private async endpoint(): Promise<string> {
    const auth = this.config.auth;
    if (auth.type !== 'none' && !this.session) this.session = await authenticate(this.http, auth);
    if (this.base === undefined) {
      const url = this.config.endpoint ?? catalogEndpoint(this.session?.catalog ?? [], 'network', this.config.interface, this.config.region);
      // Catalog URLs may or may not end in /v2.0 (both are seen in the wild).
      this.base = url.replace(/\/+$/, '').replace(/\/v2\.0$/, '');
    }
    return this.base;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
