/**
 * The XML handed to `virsh metadata --key nova --set`. libvirt puts the given element and all its
 * descendants into the namespace of `--uri` under the prefix of `--key`; XML that already carries
 * a prefix or a namespace declaration comes out broken (docs/design.md, "Facts about libvirt"). So the copy is unqualified.
 * It is also compact: indentation between elements is dropped (libvirt indents what it saves),
 * because virsh reads each byte of an argument slowly (about 2 µs) and this runs per domain.
 */
import { DOMImplementation, type Document, type Element, type Node } from '@xmldom/xmldom';
import { childElements, ELEMENT_NODE, serializeXml, TEXT_NODE } from './xml-document';

const COMMENT_NODE = 8;
const CDATA_SECTION_NODE = 4;

export function metadataPayload(instance: Element): string {
  const doc = new DOMImplementation().createDocument(null, '', null);
  doc.appendChild(unqualifiedCopy(doc, instance));
  return serializeXml(doc);
}

function unqualifiedCopy(doc: Document, source: Element): Element {
  const copy = doc.createElement(source.localName ?? source.nodeName);
  for (const attr of Array.from(source.attributes)) {
    if (attr.name === 'xmlns' || attr.prefix === 'xmlns') continue;
    copy.setAttribute(attr.localName ?? attr.name, attr.value);
  }
  const hasElements = childElements(source).length > 0;
  for (let n: Node | null = source.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) copy.appendChild(unqualifiedCopy(doc, n as Element));
    else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) {
      const text = n.nodeValue ?? '';
      if (!(hasElements && text.trim() === '')) copy.appendChild(doc.createTextNode(text));
    }
    else if (n.nodeType === COMMENT_NODE) copy.appendChild(doc.createComment(n.nodeValue ?? ''));
  }
  return copy;
}
