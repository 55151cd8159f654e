/** A domain's ports flattened to one row per address: what `list`, `find`, `show` and metrics print. */
import type { Domain } from './domain';

export interface AddressRow {
  readonly domain: string;
  readonly instanceId: string;
  readonly name: string;
  readonly projectId: string;
  readonly portId: string;
  /** Empty for a port that has no address, so the port still shows. */
  readonly address: string;
  readonly type: string;
  readonly ipVersion: string;
}

export function addressRows(domain: Domain): AddressRow[] {
  const nova = domain.nova;
  if (!nova) return [];
  const base = { domain: domain.name, instanceId: domain.uuid, name: nova.displayName ?? '', projectId: nova.projectId ?? '' };
  return (nova.ports ?? []).flatMap((port) =>
    port.ips.length === 0
      ? [{ ...base, portId: port.id, address: '', type: '', ipVersion: '' }]
      : port.ips.map((ip) => ({ ...base, portId: port.id, address: ip.address, type: ip.type, ipVersion: ip.version })),
  );
}
