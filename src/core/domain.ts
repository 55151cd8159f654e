/**
 * A libvirt domain document seen as an instance: its identity, the interfaces that ports are
 * matched against, and nova's `<instance>` element. Accepts `<domain>` as `virsh dumpxml` and the
 * hook give it, and `<domstatus>` as libvirt keeps running guests in /run/libvirt/qemu.
 */
import type { Document, Element } from '@xmldom/xmldom';
import { InputError } from '../errors';
import { parseMac, parseUuid, type DomainInterface, type Uuid } from './model';
import { isNovaNamespace, NOVA_NS, type NovaNamespace } from './nova-namespace';
import { readPortsElement, type ReadPort } from './ports-xml';
import { childElements, firstChildElement, parseXml, textOf } from './xml-document';

/** What nova's `<instance>` element says. */
export interface NovaFacts {
  readonly namespace: NovaNamespace;
  /** `<nova:name>`: the instance name the operator knows. */
  readonly displayName: string | undefined;
  readonly projectId: string | undefined;
  /** null when the element has no `<nova:ports>` at all (nova < 23 writes none). */
  readonly ports: ReadPort[] | null;
}

export interface NovaInstance extends NovaFacts {
  readonly element: Element;
}

/**
 * What a domain says, without the document it was read from: what the read commands keep of
 * every domain at once (a thousand documents kept alive until the answer is printed cost more in
 * the garbage collector than reading them).
 */
export interface DomainFacts {
  readonly name: string;
  readonly uuid: Uuid;
  readonly interfaces: readonly DomainInterface[];
  /** undefined: not an instance, and left alone. */
  readonly nova: NovaFacts | undefined;
}

/** A domain with its document, which a change is made in. */
export interface Domain extends DomainFacts {
  readonly doc: Document;
  readonly element: Element;
  readonly nova: NovaInstance | undefined;
}

/** The facts of `domain`, holding nothing of its document. */
export function factsOf({ name, uuid, interfaces, nova }: Domain): DomainFacts {
  if (nova === undefined) return { name, uuid, interfaces, nova };
  const { namespace, displayName, projectId, ports } = nova;
  return { name, uuid, interfaces, nova: { namespace, displayName, projectId, ports } };
}

export function parseDomain(xml: string, source: string): Domain {
  return readDomain(parseXml(xml, source), source);
}

export function readDomain(doc: Document, source: string): Domain {
  let element = doc.documentElement;
  if (element?.localName === 'domstatus') element = firstChildElement(element, null, 'domain') ?? null;
  if (element?.localName !== 'domain' || element.namespaceURI !== null) {
    throw new InputError(source, 'not a libvirt domain XML (no <domain> root element)');
  }
  const name = textOf(firstChildElement(element, null, 'name'))?.trim();
  if (!name) throw new InputError(source, '<domain> has no <name>');
  const rawUuid = textOf(firstChildElement(element, null, 'uuid'))?.trim() ?? '';
  const uuid = parseUuid(rawUuid);
  if (!uuid) throw new InputError(source, `<uuid> ${JSON.stringify(rawUuid)} is not a UUID`);
  return { doc, element, name, uuid, interfaces: readInterfaces(element), nova: readNova(element) };
}

function readInterfaces(domain: Element): DomainInterface[] {
  const devices = firstChildElement(domain, null, 'devices');
  if (!devices) return [];
  return childElements(devices, null, 'interface').map((iface) => ({
    mac: parseMac(firstChildElement(iface, null, 'mac')?.getAttribute('address') ?? ''),
    dev: firstChildElement(iface, null, 'target')?.getAttribute('dev') ?? undefined,
  }));
}

/** The nova element, found by namespace URI (never by prefix); 1.1 wins when both are there. */
export function findNovaElement(domain: Element): Element | undefined {
  const metadata = firstChildElement(domain, null, 'metadata');
  if (!metadata) return undefined;
  const candidates = childElements(metadata).filter((el) => el.localName === 'instance' && isNovaNamespace(el.namespaceURI));
  return candidates.find((el) => el.namespaceURI === NOVA_NS.v1_1) ?? candidates[0];
}

export function readNovaElement(element: Element): NovaInstance {
  const namespace = element.namespaceURI as NovaNamespace;
  const owner = firstChildElement(element, namespace, 'owner');
  const project = owner && firstChildElement(owner, namespace, 'project');
  const portsEl = firstChildElement(element, namespace, 'ports');
  return {
    element,
    namespace,
    displayName: textOf(firstChildElement(element, namespace, 'name')),
    projectId: project?.getAttribute('uuid') ?? undefined,
    ports: portsEl ? readPortsElement(portsEl) : null,
  };
}

function readNova(domain: Element): NovaInstance | undefined {
  const element = findNovaElement(domain);
  return element && readNovaElement(element);
}
