/**
 * What "everything else intact" means, written independently of the code under test: the document
 * as a list of nodes (elements with namespace, qualified name and attributes in order, text,
 * comments, CDATA, processing instructions), with the chosen nova element's `<ports>` removed and,
 * directly inside that element only, the whitespace that lays children out. Parsed with plain
 * xmldom, so two XML texts compare as the DOM a reader of the output gets.
 */
import { DOMParser, type Element, type Node } from '@xmldom/xmldom';
import { NOVA_NS } from '../../src/core/nova-namespace';

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;
const PI = 7;
const COMMENT = 8;

function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let n = node.firstChild; n; n = n.nextSibling) out.push(n);
  return out;
}

/** 1.1 wins when both are present, as nova-ipmeta's rule says; found by URI, never by prefix. */
function novaInstance(domain: Element | null): Element | undefined {
  const root = domain?.localName === 'domstatus' ? children(domain).find((n) => n.nodeName === 'domain') : domain;
  const metadata = root && children(root).find((n) => n.nodeType === ELEMENT && n.nodeName === 'metadata');
  if (!metadata) return undefined;
  const all = children(metadata).filter((n): n is Element => n.nodeType === ELEMENT && (n as Element).localName === 'instance');
  return all.find((e) => e.namespaceURI === NOVA_NS.v1_1) ?? all.find((e) => e.namespaceURI === NOVA_NS.v1_0);
}

export function outsidePorts(xml: string): string[] {
  const doc = new DOMParser({
    onError: (level, message) => {
      if (level === 'warning' && message.startsWith('Unicode replacement character')) return;
      throw new Error(`${level}: ${message}`);
    },
    // XML 1.0 (xmldom's default also folds U+0085, U+2028 and U+2029 into line feeds)
    normalizeLineEndings: (text) => text.replace(/\r\n?/g, '\n'),
  }).parseFromString(xml, 'text/xml');
  const instance = novaInstance(doc.documentElement);
  const lines: string[] = [];
  const walk = (node: Node, depth: number): void => {
    const pad = ' '.repeat(depth);
    for (const n of children(node)) {
      if (node === instance) {
        if (n.nodeType === TEXT && /^\s*$/.test(n.nodeValue ?? '')) continue;
        if (n.nodeType === ELEMENT && (n as Element).localName === 'ports' && (n as Element).namespaceURI === instance.namespaceURI) continue;
      }
      if (n.nodeType === ELEMENT) {
        const el = n as Element;
        lines.push(`${pad}<{${el.namespaceURI ?? ''}}${el.nodeName}`);
        for (const a of Array.from(el.attributes)) lines.push(`${pad}  @{${a.namespaceURI ?? ''}}${a.name}=${JSON.stringify(a.value)}`);
        walk(el, depth + 1);
        lines.push(`${pad}>`);
      } else if (n.nodeType === TEXT) lines.push(`${pad}text ${JSON.stringify(n.nodeValue)}`);
      else if (n.nodeType === CDATA) lines.push(`${pad}cdata ${JSON.stringify(n.nodeValue)}`);
      else if (n.nodeType === COMMENT) lines.push(`${pad}comment ${JSON.stringify(n.nodeValue)}`);
      else if (n.nodeType === PI) lines.push(`${pad}pi ${n.nodeName} ${JSON.stringify(n.nodeValue)}`);
      else lines.push(`${pad}node ${n.nodeType}`);
    }
  };
  walk(doc, 0);
  return lines;
}

/**
 * An element as a reader of its meaning sees it, node for node: names by namespace URI (a prefix
 * is a spelling), no namespace declarations, no whitespace-only text among child elements (that
 * is indentation, which libvirt rewrites); text, CDATA sections, comments and processing
 * instructions as they are. `unqualifiedAs`: the namespace an element without one is read in, as
 * libvirt's `virsh metadata --set` reads its payload.
 */
export function elementMeaning(el: Element, unqualifiedAs?: string): string[] {
  const lines: string[] = [];
  const walk = (e: Element, pad: string): void => {
    lines.push(`${pad}<{${e.namespaceURI ?? unqualifiedAs ?? ''}}${e.localName}`);
    const attrs = Array.from(e.attributes)
      .filter((a) => a.namespaceURI !== 'http://www.w3.org/2000/xmlns/')
      .map((a) => `${pad}  @{${a.namespaceURI ?? ''}}${a.localName}=${JSON.stringify(a.value)}`);
    lines.push(...attrs.sort());
    const kids = children(e);
    const amongElements = kids.some((n) => n.nodeType === ELEMENT);
    for (const n of kids) {
      if (n.nodeType === ELEMENT) walk(n as Element, `${pad} `);
      else if (n.nodeType === TEXT && n.nodeValue === '') continue;
      else if ((n.nodeType === TEXT || n.nodeType === CDATA) && amongElements && /^[ \t\r\n]*$/.test(n.nodeValue ?? '')) continue;
      else if (n.nodeType === TEXT) lines.push(`${pad} text ${JSON.stringify(n.nodeValue)}`);
      else if (n.nodeType === CDATA) lines.push(`${pad} cdata ${JSON.stringify(n.nodeValue)}`);
      else if (n.nodeType === COMMENT) lines.push(`${pad} comment ${JSON.stringify(n.nodeValue)}`);
      else if (n.nodeType === PI) lines.push(`${pad} pi ${n.nodeName} ${JSON.stringify(n.nodeValue)}`);
      else lines.push(`${pad} node ${n.nodeType}`);
    }
    lines.push(`${pad}>`);
  };
  walk(el, '');
  return lines;
}
