/**
 * Neutron's list answers, checked whole before anything is built from them or written: every
 * item must be an object with the fields the sync reads, of the types Neutron gives them (a port
 * id a UUID, a MAC a MAC, an address an address...). A server that answers anything else (a bug,
 * a proxy's error page in JSON, a hostile endpoint) fails the whole sync with one line naming the
 * item and the field, and no cache file changes. Fields the sync does not read are not looked at.
 */
import { InputError, quote } from '../errors';
import { parseIp } from './ip';
import { parseMac, parseUuid } from './model';
import type { NeutronFloatingIp, NeutronNetwork, NeutronPort, NeutronSubnet } from './neutron-network-info';

export type Resource = 'ports' | 'subnets' | 'networks' | 'floatingips';

/** A port as `fields=id&fields=device_id` gives it: which instance changed. */
export interface PortRef {
  readonly id: string;
  readonly device_id: string;
}
/** A floating IP as `fields=id&fields=port_id` gives it. */
export interface FloatingIpRef {
  readonly id: string;
  readonly port_id: string | null;
}

type Obj = Record<string, unknown>;

class Item {
  constructor(
    readonly value: Obj,
    readonly at: string,
  ) {}
  private fail(key: string, problem: string): never {
    throw new InputError(`${this.at}.${key}`, `${quote(this.value[key])} ${problem}`);
  }
  string(key: string): string {
    const v = this.value[key];
    if (typeof v !== 'string' || v === '') this.fail(key, 'is not a non-empty string');
    return v;
  }
  /** Absent and null alike: not given. */
  optionalString(key: string): string | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.fail(key, 'is not a string');
    return v;
  }
  anyString(key: string): string {
    const v = this.value[key];
    if (typeof v !== 'string') this.fail(key, 'is not a string');
    return v;
  }
  uuid(key: string): string {
    const v = this.value[key];
    if (typeof v !== 'string' || parseUuid(v) === undefined) this.fail(key, 'is not a UUID');
    return v;
  }
  mac(key: string): string {
    const v = this.value[key];
    if (typeof v !== 'string' || parseMac(v) === undefined) this.fail(key, 'is not a MAC address');
    return v;
  }
  ip(key: string): string {
    const v = this.value[key];
    if (typeof v !== 'string' || parseIp(v) === undefined) this.fail(key, 'is not an IP address');
    return v;
  }
  optionalIp(key: string): string | null {
    return this.value[key] === undefined || this.value[key] === null ? null : this.ip(key);
  }
  optionalNumber(key: string): number | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'is not a number');
    return v;
  }
  optionalBoolean(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(key, 'is not true or false');
    return v;
  }
  list(key: string): Item[] {
    const v = this.value[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(key, 'is not a list');
    return v.map((x, i) => item(x, `${this.at}.${key}[${i}]`));
  }
}

function item(value: unknown, at: string): Item {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(at, `${quote(value)} is not an object`);
  return new Item(value as Obj, at);
}

/** The `<resource>` list of one answer, each item checked by `read`; throws InputError naming the item. */
export function itemsOf<T>(json: Obj, resource: Resource, read: (i: Item) => T): T[] {
  const list = json[resource];
  if (!Array.isArray(list)) throw new InputError(resource, 'missing, or not a list');
  return list.map((v, n) => read(item(v, `${resource}[${n}]`)));
}

/** The `rel: next` link of a paged answer (`<resource>_links`), if there is one. */
export function nextLink(json: Obj, resource: Resource): string | undefined {
  const key = `${resource}_links`;
  const links = json[key];
  if (links === undefined) return undefined;
  if (!Array.isArray(links)) throw new InputError(key, 'is not a list');
  for (const [n, v] of links.entries()) {
    const link = item(v, `${key}[${n}]`);
    if (link.anyString('rel') === 'next') return link.string('href');
  }
  return undefined;
}

export const readPort = (i: Item): NeutronPort => ({
  id: i.uuid('id'),
  mac_address: i.mac('mac_address'),
  network_id: i.string('network_id'),
  device_id: i.anyString('device_id'),
  status: i.optionalString('status'),
  created_at: i.optionalString('created_at'),
  fixed_ips: i.list('fixed_ips').map((f) => ({ subnet_id: f.string('subnet_id'), ip_address: f.ip('ip_address') })),
  'binding:vif_type': i.optionalString('binding:vif_type'),
  'binding:vnic_type': i.optionalString('binding:vnic_type'),
});

export const readSubnet = (i: Item): NeutronSubnet => {
  const version = i.optionalNumber('ip_version');
  if (version !== 4 && version !== 6) throw new InputError(`${i.at}.ip_version`, `${quote(version)} is not 4 or 6`);
  const gateway = i.optionalIp('gateway_ip');
  return {
    id: i.string('id'),
    cidr: i.string('cidr'),
    ip_version: version,
    gateway_ip: gateway,
    enable_dhcp: i.optionalBoolean('enable_dhcp'),
    ipv6_address_mode: i.optionalString('ipv6_address_mode') ?? null,
  };
};

export const readNetwork = (i: Item): NeutronNetwork => ({ id: i.string('id'), name: i.optionalString('name'), mtu: i.optionalNumber('mtu') });

export const readFloatingIp = (i: Item): NeutronFloatingIp => ({
  id: i.string('id'),
  floating_ip_address: i.ip('floating_ip_address'),
  fixed_ip_address: i.optionalIp('fixed_ip_address'),
  port_id: i.optionalString('port_id') ?? null,
});

export const readPortRef = (i: Item): PortRef => ({ id: i.uuid('id'), device_id: i.anyString('device_id') });
export const readFloatingIpRef = (i: Item): FloatingIpRef => ({ id: i.string('id'), port_id: i.optionalString('port_id') ?? null });
export const readId = (i: Item): string => i.string('id');

export type { Item };
