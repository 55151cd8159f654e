/**
 * Parsing and serializing XML safely: any error stops the parse, a DOCTYPE is refused outright
 * (libvirt never writes one, and refusing it rules out entity tricks), and serialization is
 * xmldom's, so text is escaped by the DOM and never pasted into markup.
 */
import { DOMParser, XMLSerializer, onErrorStopParsing, type Document, type Element, type Node } from '@xmldom/xmldom';
import { InputError } from '../errors';

/** libvirt refuses larger XML documents; so do we, before parsing. */
export const MAX_XML_BYTES = 10 * 1024 * 1024;

export const ELEMENT_NODE = 1;
export const TEXT_NODE = 3;

export function parseXml(text: string, source: string): Document {
  if (text.length > MAX_XML_BYTES) throw new InputError(source, `XML larger than ${MAX_XML_BYTES} bytes`);
  if (/<!DOCTYPE/i.test(text)) throw new InputError(source, 'XML with a DOCTYPE is not accepted');
  let doc: Document;
  try {
    doc = new DOMParser({ onError: onErrorStopParsing }).parseFromString(text, 'text/xml');
  } catch (err) {
    throw new InputError(source, `malformed XML: ${firstLine((err as Error).message)}`);
  }
  if (!doc.documentElement) throw new InputError(source, 'malformed XML: no root element');
  return doc;
}

export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

export function childElements(parent: Node, namespace?: string | null, localName?: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== ELEMENT_NODE) continue;
    const el = n as Element;
    if (namespace !== undefined && el.namespaceURI !== namespace) continue;
    if (localName !== undefined && el.localName !== localName) continue;
    out.push(el);
  }
  return out;
}

export function firstChildElement(parent: Node, namespace: string | null, localName: string): Element | undefined {
  return childElements(parent, namespace, localName)[0];
}

/** The text content of an element, or undefined when the element is absent. */
export function textOf(el: Element | undefined): string | undefined {
  return el?.textContent ?? undefined;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0]?.trim() ?? message;
}
