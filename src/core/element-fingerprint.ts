/**
 * A canonical text of an element's meaning (namespaces by URI, not prefix; whitespace-only text
 * dropped; attributes sorted), so that two reads of nova's element through different paths
 * (`virsh dumpxml`, `virsh metadata`) compare equal exactly when nothing changed.
 */
import type { Element, Node } from '@xmldom/xmldom';
import { ELEMENT_NODE, TEXT_NODE } from './xml-document';

export function elementFingerprint(el: Element): string {
  const parts: string[] = [];
  walk(el, parts);
  return parts.join('');
}

function walk(node: Node, out: string[]): void {
  if (node.nodeType === ELEMENT_NODE) {
    const el = node as Element;
    const attrs = Array.from(el.attributes)
      .filter((a) => a.name !== 'xmlns' && a.prefix !== 'xmlns')
      .map((a) => `${a.namespaceURI ?? ''}|${a.localName ?? a.name}=${JSON.stringify(a.value)}`)
      .sort();
    out.push(`<{${el.namespaceURI ?? ''}}${el.localName ?? el.nodeName} ${attrs.join(' ')}>`);
    for (let c = el.firstChild; c; c = c.nextSibling) walk(c, out);
    out.push('</>');
  } else if (node.nodeType === TEXT_NODE || node.nodeType === 4) {
    const text = node.nodeValue ?? '';
    if (text.trim() !== '') out.push(JSON.stringify(text));
  }
  // Comments and processing instructions carry no meaning here.
}
