/**
 * Parsing and serializing XML safely: any error stops the parse, a DOCTYPE is refused outright
 * (libvirt never writes one, and refusing it rules out entity tricks), and serialization is
 * xmldom's, so text is escaped by the DOM and never pasted into markup.
 */
import type { Document, Element, Node } from '@xmldom/xmldom';
import { xmldom } from './xmldom.cjs';
import { InputError } from '../errors';

/** libvirt refuses larger XML documents; so do we, before parsing. */
export const MAX_XML_BYTES = 10 * 1024 * 1024;

export const ELEMENT_NODE = 1;
export const TEXT_NODE = 3;
export const CDATA_SECTION_NODE = 4;
export const PROCESSING_INSTRUCTION_NODE = 7;
export const COMMENT_NODE = 8;
/** The namespace of `xml:` attributes (`xml:lang`), bound by XML itself. */
export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
/** XML's own white space (XML 1.0 §2.3 S): not U+00A0 or the other characters String.trim drops. */
export const XML_SPACE = /^[ \t\n\r]*$/;

export function parseXml(text: string, source: string): Document {
  if (Buffer.byteLength(text) > MAX_XML_BYTES) throw new InputError(source, `XML larger than ${MAX_XML_BYTES} bytes`);
  if (/<!DOCTYPE/i.test(text)) throw new InputError(source, 'XML with a DOCTYPE is not accepted');
  // The text is already decoded (strictly, as UTF-8): a document that says it is in another
  // encoding would mean something else than what it was read as.
  const encoding = /^\uFEFF?<\?xml[^>]*\sencoding\s*=\s*["']([^"']*)["']/.exec(text)?.[1];
  if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) throw new InputError(source, `XML declared as ${JSON.stringify(encoding)}: only UTF-8 is read`);
  let doc: Document;
  let problem: string | undefined;
  // xmldom only warns about some malformed markup (an unquoted attribute, `<a b/>`): refuse that
  // too. Its one warning about well-formed input is a U+FFFD character, which is valid XML text.
  const onError = (level: 'warning' | 'error' | 'fatalError', message: string): void => {
    if (level === 'warning' && message.startsWith('Unicode replacement character')) return;
    problem ??= message;
    throw new Error(message);
  };
  try {
    doc = new (xmldom().DOMParser)({ onError, normalizeLineEndings: xml10LineEndings }).parseFromString(text, 'text/xml');
  } catch (err) {
    throw new InputError(source, `malformed XML: ${firstLine(problem ?? (err as Error).message)}`);
  }
  if (!doc.documentElement) throw new InputError(source, 'malformed XML: no root element');
  return doc;
}

/**
 * XML 1.0 §2.11: CR LF and a lone CR become LF. xmldom's default also turns U+0085, U+2028 and
 * U+2029 into LF (XML 1.1's rule), which would alter the text of a domain we write back.
 */
function xml10LineEndings(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/**
 * xmldom writes a carriage return in text as is, and the next parser reads it as a line feed. After
 * parsing, a CR can only be in text or attribute values (the parser turns raw CRs into LFs and does
 * not expand `&#13;` in comments, CDATA or processing instructions), so writing every CR as
 * `&#13;` keeps text exact, as libvirt's own writer does.
 */
export function serializeXml(node: Node): string {
  return new (xmldom().XMLSerializer)().serializeToString(node).replace(/\r/g, '&#13;');
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

/** The parser's first line, bounded: xmldom lists every unclosed tag, which deep input makes megabytes long. */
function firstLine(message: string, max = 200): string {
  const line = message.split('\n', 1)[0]?.trim() ?? message;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
