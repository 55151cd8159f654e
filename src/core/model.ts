/**
 * The values the core works with. Each identifier is branded so that only the validators in
 * this folder can produce one: a port id is a checked UUID, a MAC is lower case, an address is
 * canonical, and comparing them is plain string equality.
 */
import type { IpAddress, IpVersion } from './ip';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Lower-case canonical UUID text. */
export type Uuid = Brand<string, 'Uuid'>;
/** Lower-case colon-separated MAC. */
export type Mac = Brand<string, 'Mac'>;

export type IpType = 'fixed' | 'floating';

export interface PortIp {
  readonly type: IpType;
  readonly address: IpAddress;
  readonly version: IpVersion;
}

/** One `<nova:port>`: a neutron port and its addresses in nova's order. */
export interface Port {
  readonly id: Uuid;
  readonly ips: readonly PortIp[];
}

/** One VIF of a validated network_info: the port, the MAC it is plugged with, its addresses. */
export interface Vif extends Port {
  readonly mac: Mac;
}

/** A domain `<interface>` as far as matching ports goes. */
export interface DomainInterface {
  readonly mac: Mac | undefined;
  /** `<target dev>`, e.g. `tap567a4527-b0`; absent on some persistent definitions. */
  readonly dev: string | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function parseUuid(text: string): Uuid | undefined {
  return UUID.test(text) ? (text.toLowerCase() as Uuid) : undefined;
}

export function parseMac(text: string): Mac | undefined {
  return MAC.test(text) ? (text.toLowerCase() as Mac) : undefined;
}

/** Which of libvirt's two definitions of a domain: the running guest's, or the one it starts from. */
export type Definition = 'live' | 'persistent';
