/**
 * Replacing `<nova:ports>` inside nova's `<instance>` element, and nothing else: every other
 * child, attribute and comment stays where it was, and the new element goes last, as nova puts it.
 */
import type { Element, Node } from '@xmldom/xmldom';
import type { Port } from './model';
import { buildPortsElement, type Qualified } from './ports-xml';
import { childElements, TEXT_NODE } from './xml-document';

export function replacePorts(instance: Element, ports: readonly Port[]): void {
  const doc = instance.ownerDocument;
  if (!doc) throw new Error('replacePorts: element outside a document');
  const namespace = instance.namespaceURI ?? '';
  for (const old of childElements(instance, namespace, 'ports')) {
    const before = old.previousSibling;
    if (before && isWhitespace(before)) instance.removeChild(before);
    instance.removeChild(old);
  }
  const indent = childIndent(instance);
  const q: Qualified = { namespace, prefix: instance.prefix };
  const element = buildPortsElement(doc, q, ports, indent ?? '');
  const trailing = instance.lastChild && isWhitespace(instance.lastChild) ? instance.lastChild : null;
  if (indent !== undefined) instance.insertBefore(doc.createTextNode(`\n${indent}`), trailing);
  instance.insertBefore(element, trailing);
  if (indent !== undefined && !trailing) {
    instance.appendChild(doc.createTextNode(`\n${indent.slice(0, -2)}`));
  }
}

/** The indentation of the element's children, when the document is indented at all. */
function childIndent(instance: Element): string | undefined {
  for (const el of childElements(instance).reverse()) {
    const before = el.previousSibling;
    if (before && isWhitespace(before) && before.nodeValue?.includes('\n')) {
      return before.nodeValue.slice(before.nodeValue.lastIndexOf('\n') + 1);
    }
  }
  return undefined;
}

function isWhitespace(node: Node): boolean {
  return node.nodeType === TEXT_NODE && /^\s*$/.test(node.nodeValue ?? '');
}
