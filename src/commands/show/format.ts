/** `show` for people (a title line and a table of addresses) and for machines (one JSON document). */
import type { DomainFacts } from '../../core/domain';
import type { Definition } from '../../adapters/domain-inventory';
import { formatTable, jsonText, printable } from '../../cli/output';
import { portsJson } from '../../cli/ports-json';

/** `definition` is absent for a file given with --xml: it is whatever that file is. */
export function showJson(domain: DomainFacts, definition?: Definition): string {
  const nova = domain.nova;
  return `${jsonText({
    domain: domain.name,
    instanceId: domain.uuid,
    ...(definition && { definition }),
    nova: nova
      ? {
          namespace: nova.namespace,
          name: nova.displayName ?? null,
          projectId: nova.projectId ?? null,
          ports: nova.ports === null ? null : portsJson(nova.ports),
        }
      : null,
  })}\n`;
}

export function formatShow(domain: DomainFacts, definition?: Definition): string {
  const nova = domain.nova;
  const head = printable(`domain ${domain.name}  uuid ${domain.uuid}${definition ? `  definition ${definition}` : ''}`);
  if (!nova) return `${head}\nnot a nova instance (no nova metadata)\n`;
  const title = `${head}  name ${printable(nova.displayName ?? '-')}  namespace ${nova.namespace}\n`;
  if (nova.ports === null) return `${title}no <nova:ports> element\n`;
  if (nova.ports.length === 0) return `${title}no ports\n`;
  const rows = nova.ports.flatMap((p) =>
    p.ips.length === 0 ? [[p.id, '-', '', '']] : p.ips.map((ip) => [p.id, ip.address, ip.type, ip.version]),
  );
  return title + formatTable(['PORT', 'ADDRESS', 'TYPE', 'VERSION'], rows);
}
