/**
 * The desired `<nova:ports>` of one domain (docs/design.md, "The one flow"): the cached VIFs plugged into the domain,
 * in cache order, then the ports the metadata already lists that the cache lacks, while their
 * interface (named by nova after the port) is still on the domain.
 */
import type { DomainInterface, Port, Vif } from './model';
import { asPort, type ReadPort } from './ports-xml';

/** nova names a port's device with a 3-letter prefix (tap, vhu, ...) and 11 characters of its id. */
export function deviceMatchesPort(dev: string, portId: string): boolean {
  return dev.length === 14 && dev.slice(3) === portId.slice(0, 11).toLowerCase();
}

export function desiredPorts(
  vifs: readonly Vif[],
  interfaces: readonly DomainInterface[],
  current: readonly ReadPort[] | null,
): Port[] {
  const macs = new Set(interfaces.map((i) => i.mac));
  const devs = interfaces.map((i) => i.dev?.toLowerCase()).filter((d): d is string => d !== undefined);
  const cached: Port[] = vifs.filter((v) => macs.has(v.mac)).map(({ id, ips }) => ({ id, ips }));
  const cachedIds = new Set<string>(vifs.map((v) => v.id));
  const kept: Port[] = [];
  for (const read of current ?? []) {
    const port = asPort(read);
    if (!port || cachedIds.has(port.id)) continue;
    if (kept.some((k) => k.id === port.id)) continue;
    if (devs.some((dev) => deviceMatchesPort(dev, port.id))) kept.push(port);
  }
  return [...cached, ...kept];
}
