/**
 * `<nova:ports>` in nova's exact shape (nova/virt/libvirt/config.py: LibvirtConfigGuestMetaNova*):
 *   <nova:ports>
 *     <nova:port uuid="...">
 *       <nova:ip type="fixed" address="..." ipVersion="4"/>
 * One small function per element, as nova has one small class per element.
 */
import type { Document, Element } from '@xmldom/xmldom';
import { parseIp, type IpAddress } from './ip';
import { parseUuid, type Port, type PortIp, type Uuid } from './model';
import { childElements } from './xml-document';

export interface Qualified {
  readonly namespace: string;
  /** The prefix to write, e.g. `nova`; null writes the element in the default namespace. */
  readonly prefix: string | null;
}

function qname(q: Qualified, local: string): string {
  return q.prefix ? `${q.prefix}:${local}` : local;
}

export function buildIpElement(doc: Document, q: Qualified, ip: PortIp): Element {
  const el = doc.createElementNS(q.namespace, qname(q, 'ip'));
  el.setAttribute('type', ip.type);
  el.setAttribute('address', ip.address);
  el.setAttribute('ipVersion', String(ip.version));
  return el;
}

export function buildPortElement(doc: Document, q: Qualified, port: Port, indent: string): Element {
  const el = doc.createElementNS(q.namespace, qname(q, 'port'));
  el.setAttribute('uuid', port.id);
  appendIndented(el, port.ips.map((ip) => buildIpElement(doc, q, ip)), indent);
  return el;
}

/**
 * `indent` is the whitespace before `<nova:ports>` itself, so children nest by two more spaces;
 * an empty list gives `<nova:ports/>` as nova writes it.
 */
export function buildPortsElement(doc: Document, q: Qualified, ports: readonly Port[], indent: string): Element {
  const el = doc.createElementNS(q.namespace, qname(q, 'ports'));
  const inner = `${indent}  `;
  appendIndented(el, ports.map((p) => buildPortElement(doc, q, p, inner)), indent);
  return el;
}

function appendIndented(parent: Element, children: Element[], indent: string): void {
  const doc = parent.ownerDocument;
  if (children.length === 0 || !doc) return;
  for (const child of children) {
    parent.appendChild(doc.createTextNode(`\n${indent}  `));
    parent.appendChild(child);
  }
  parent.appendChild(doc.createTextNode(`\n${indent}`));
}

/**
 * Actual ports, read back from XML that nova, an operator or we wrote. Unlike network_info this is
 * not rejected when odd: an address that does not parse is kept as written (so it compares
 * unequal and gets rewritten), a port without a valid uuid is kept under its raw text.
 */
export interface ReadPort {
  readonly id: Uuid | string;
  readonly ips: readonly { readonly type: string; readonly address: IpAddress | string; readonly version: string }[];
}

export function readPortsElement(ports: Element): ReadPort[] {
  const ns = ports.namespaceURI;
  return childElements(ports, ns, 'port').map((port) => {
    const rawId = port.getAttribute('uuid') ?? '';
    return {
      id: parseUuid(rawId) ?? rawId,
      ips: childElements(port, ns, 'ip').map((ip) => {
        const rawAddress = ip.getAttribute('address') ?? '';
        return {
          type: ip.getAttribute('type') ?? '',
          address: parseIp(rawAddress)?.address ?? rawAddress,
          version: ip.getAttribute('ipVersion') ?? '',
        };
      }),
    };
  });
}

/** Whether a read port is exactly a well-formed port, so it can be carried over as desired. */
export function asPort(read: ReadPort): Port | undefined {
  const id = parseUuid(read.id);
  if (!id) return undefined;
  const ips: PortIp[] = [];
  for (const ip of read.ips) {
    const parsed = parseIp(ip.address);
    if (!parsed || String(parsed.version) !== ip.version) return undefined;
    if (ip.type !== 'fixed' && ip.type !== 'floating') return undefined;
    ips.push({ type: ip.type, address: parsed.address, version: parsed.version });
  }
  return { id, ips };
}
