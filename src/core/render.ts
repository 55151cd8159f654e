/** A standalone `<nova:ports>` document for a network_info, every VIF included (no domain to match). */
import { xmldom } from './xmldom.cjs';
import type { Port } from './model';
import type { NovaNamespace } from './nova-namespace';
import { buildPortsElement } from './ports-xml';
import { serializeXml } from './xml-document';

export function renderPorts(ports: readonly Port[], namespace: NovaNamespace): string {
  const doc = new (xmldom().DOMImplementation)().createDocument(null, '', null);
  const element = buildPortsElement(doc, { namespace, prefix: 'nova' }, ports, '');
  doc.appendChild(element);
  return `${serializeXml(doc)}\n`;
}
