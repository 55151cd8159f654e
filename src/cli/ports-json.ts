/** Ports as every command's JSON shows them: `{id, ips: [{type, address, ipVersion}]}`, the version a number. */
import { versionNumber } from '../core/address-rows';
import type { Port } from '../core/model';
import type { ReadPort } from '../core/ports-xml';

export interface PortJson {
  readonly id: string;
  readonly ips: readonly { readonly type: string; readonly address: string; readonly ipVersion: number | null }[];
}

export function portsJson(ports: readonly (Port | ReadPort)[]): PortJson[] {
  return ports.map((p) => ({
    id: p.id,
    ips: p.ips.map((ip) => ({ type: ip.type, address: ip.address, ipVersion: typeof ip.version === 'number' ? ip.version : versionNumber(ip.version) })),
  }));
}
