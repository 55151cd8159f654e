import { parseDomain } from '../../src/core/domain';

/** What the domain XML says, port by port: `id: type address, ...`; null when there is no <nova:ports>. */
export function portsOf(xml: string): string[] | null {
  const nova = parseDomain(xml, 'test').nova;
  if (!nova?.ports) return null;
  return nova.ports.map((p) => `${p.id}: ${p.ips.map((ip) => `${ip.type} ${ip.address}`).join(', ')}`);
}

/** The expected form of portsOf for VIFs written by nova-ipmeta: fixed, then floating. */
export function expectedPorts(vifs: readonly { id: string; fixed: string[]; floating: string[] }[]): string[] {
  return vifs.map((v) => `${v.id}: ${[...v.fixed.map((a) => `fixed ${a}`), ...v.floating.map((a) => `floating ${a}`)].join(', ')}`);
}
