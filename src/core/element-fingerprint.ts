/**
 * A canonical text of an element's meaning (namespaces by URI, not prefix; whitespace-only text
 * dropped; attributes sorted; namespace declarations are not content), so that two reads of nova's element through different paths
 * (`virsh dumpxml`, `virsh metadata`) compare equal exactly when nothing changed.
 */
import type { Element, Node } from '@xmldom/xmldom';
import { CDATA_SECTION_NODE, COMMENT_NODE, ELEMENT_NODE, PROCESSING_INSTRUCTION_NODE, TEXT_NODE, XML_SPACE } from './xml-document';

export interface FingerprintOptions {
  /**
   * Node for node: comments, processing instructions, whether text is a CDATA section, and
   * whitespace-only text in an element without child elements count too (by default none of them
   * carries meaning). Whitespace-only text among child elements still does not: it is
   * indentation, which libvirt rewrites.
   */
  readonly exact?: boolean;
  /** The namespace an element without one is read in (libvirt's `metadata --set` gives it its own). */
  readonly unqualifiedAs?: string;
}

export function elementFingerprint(el: Element, options: FingerprintOptions = {}): string {
  const parts: string[] = [];
  walk(el, options, false, parts);
  return parts.join('');
}

/** `amongElements`: the node's parent has child elements, so whitespace around them is indentation. */
function walk(node: Node, options: FingerprintOptions, amongElements: boolean, out: string[]): void {
  if (node.nodeType === ELEMENT_NODE) {
    const el = node as Element;
    const attrs = Array.from(el.attributes)
      .filter((a) => a.name !== 'xmlns' && a.prefix !== 'xmlns')
      .map((a) => `${a.namespaceURI ?? ''}|${a.localName ?? a.name}=${JSON.stringify(a.value)}`)
      .sort();
    out.push(`<{${el.namespaceURI ?? options.unqualifiedAs ?? ''}}${el.localName ?? el.nodeName} ${attrs.join(' ')}>`);
    let hasElements = false;
    for (let c = el.firstChild; c && !hasElements; c = c.nextSibling) hasElements = c.nodeType === ELEMENT_NODE;
    for (let c = el.firstChild; c; c = c.nextSibling) walk(c, options, hasElements, out);
    out.push('</>');
  } else if (node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE) {
    const text = node.nodeValue ?? '';
    const cdata = options.exact === true && node.nodeType === CDATA_SECTION_NODE ? 'cdata' : '';
    const indentation = XML_SPACE.test(text) && (amongElements || options.exact !== true);
    if (text !== '' && !indentation) out.push(`${cdata}${JSON.stringify(text)}`);
  } else if (options.exact === true && node.nodeType === COMMENT_NODE) {
    out.push(`<!--${JSON.stringify(node.nodeValue ?? '')}>`);
  } else if (options.exact === true && node.nodeType === PROCESSING_INSTRUCTION_NODE) {
    out.push(`<?${node.nodeName} ${JSON.stringify(node.nodeValue ?? '')}>`);
  }
  // Otherwise comments and processing instructions carry no meaning here.
}
