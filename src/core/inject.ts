/**
 * The pure heart of every trigger: a domain plus its cached network_info in, the domain with its
 * desired ports out. The hook uses it on the XML libvirt hands over at migrate/restore; reconcile
 * uses it on each definition it reads through virsh.
 */
import { diffPorts, type PortChange } from './compare';
import { desiredPorts } from './desired';
import type { Domain } from './domain';
import type { Port, Vif } from './model';
import { replacePorts } from './nova-ports';

export type InjectResult =
  | { readonly kind: 'not-nova' }
  | { readonly kind: 'in-sync'; readonly ports: readonly Port[] }
  | { readonly kind: 'changed'; readonly ports: readonly Port[]; readonly changes: readonly PortChange[] };

/** Computes the desired ports and, when they differ, writes them into the domain's DOM in place. */
export function injectPorts(domain: Domain, vifs: readonly Vif[]): InjectResult {
  const result = comparePorts(domain, vifs);
  if (result.kind === 'changed' && domain.nova) replacePorts(domain.nova.element, result.ports);
  return result;
}

/** What injectPorts finds, without changing the domain. */
export function comparePorts(domain: Domain, vifs: readonly Vif[]): InjectResult {
  if (!domain.nova) return { kind: 'not-nova' };
  const ports = desiredPorts(vifs, domain.interfaces, domain.nova.ports);
  const changes = diffPorts(domain.nova.ports, ports);
  if (changes.length === 0) return { kind: 'in-sync', ports };
  return { kind: 'changed', ports, changes };
}
