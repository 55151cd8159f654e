/** A domain's ports flattened to one row per address: what `list`, `find`, `show` and metrics print. */
import type { DomainFacts } from './domain';

export interface AddressRow {
  readonly domain: string;
  readonly instanceId: string;
  /** nova's name of the instance (`<nova:name>`), null when it has none. */
  readonly name: string | null;
  readonly projectId: string | null;
  /** Null on the one row of an instance that has no port, so the instance still shows. */
  readonly portId: string | null;
  /** Null for a port that has no address, so the port still shows. */
  readonly address: string | null;
  readonly type: string | null;
  /** 4 or 6; null when the XML says something else (it is shown, not trusted). */
  readonly ipVersion: number | null;
}

/** The rows of a nova instance: one per address, one per port without any, one for an instance without ports; none for a domain that is not an instance. */
export function addressRows(domain: DomainFacts): AddressRow[] {
  const nova = domain.nova;
  if (!nova) return [];
  const base = { domain: domain.name, instanceId: domain.uuid, name: nova.displayName ?? null, projectId: nova.projectId ?? null };
  const none = { portId: null, address: null, type: null, ipVersion: null };
  const rows = (nova.ports ?? []).flatMap((port): AddressRow[] =>
    port.ips.length === 0
      ? [{ ...base, ...none, portId: port.id }]
      : port.ips.map((ip) => ({ ...base, portId: port.id, address: ip.address, type: ip.type, ipVersion: versionNumber(ip.version) })),
  );
  return rows.length > 0 ? rows : [{ ...base, ...none }];
}

/** `ipVersion` as nova writes it ("4", "6"); anything else is not a version. */
export function versionNumber(text: string): number | null {
  return text === '4' ? 4 : text === '6' ? 6 : null;
}
