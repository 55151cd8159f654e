/**
 * A standalone `<nova:ports>` document for a network_info, every VIF included (no domain to match),
 * built without the XML library (core/lean-xml.ts): the empty element is read, and the ports are
 * built into it through the same DOM calls as into a domain (core/ports-xml.ts).
 */
import { parseLeanXml } from './lean-xml';
import type { Port } from './model';
import type { NovaNamespace } from './nova-namespace';
import { buildPortsElement } from './ports-xml';

export function renderPorts(ports: readonly Port[], namespace: NovaNamespace): string {
  // One of nova's two namespace URIs: nothing in it to escape.
  const lean = parseLeanXml(`<nova:ports xmlns:nova="${namespace}"/>`);
  const root = lean?.document.documentElement;
  if (!lean || !root) throw new Error(`renderPorts: ${namespace} is not a namespace URI`);
  const built = buildPortsElement(lean.document, { namespace, prefix: 'nova' }, ports, '');
  while (built.firstChild) root.appendChild(built.firstChild);
  return `${lean.serialize()}\n`;
}
