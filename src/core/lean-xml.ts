/**
 * A read-only reading of the plain XML libvirt writes into its own files, for reconcile's in-sync
 * decision over hundreds of domains (docs/design.md, "Reconcile from libvirt's files"), where a
 * DOM parse per file costs most of the run. It builds only what `readDomain` and the nova element
 * readers look at: elements (name, namespace, attributes) and text, read exactly as xmldom reads
 * them, and gives up (undefined: the caller parses the DOM) on anything outside that plain
 * subset: a declaration, processing instruction, DOCTYPE, CDATA, a comment inside the root
 * element, a carriage return or other control character, a name that is not plain ASCII, an
 * entity other than the five predefined and character references, a tab or line break in an
 * attribute value, an unbound prefix, a repeated attribute, a mismatched end tag. What it returns
 * is never written back: a domain it reads is only ever found in sync, or read again as a DOM.
 */
import type { Document } from '@xmldom/xmldom';

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME = /^[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what sends a file to the DOM
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000d\u000e-\u001f\ufffe\uffff]/;
/** Outside the root, only XML's own white space (a carriage return is refused above). */
const XML_SPACE = /^[ \t\n]*$/;
const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

interface LeanAttr {
  readonly name: string;
  readonly prefix: string | null;
  readonly localName: string;
  readonly namespaceURI: string | null;
  readonly value: string;
}

class LeanText {
  readonly nodeType = 3;
  nextSibling: LeanNode | null = null;
  constructor(readonly nodeValue: string) {}
  get textContent(): string {
    return this.nodeValue;
  }
}

class LeanElement {
  readonly nodeType = 1;
  firstChild: LeanNode | null = null;
  lastChild: LeanNode | null = null;
  nextSibling: LeanNode | null = null;
  constructor(
    readonly localName: string,
    readonly prefix: string | null,
    readonly namespaceURI: string | null,
    readonly attributes: readonly LeanAttr[],
  ) {}
  get tagName(): string {
    return this.prefix ? `${this.prefix}:${this.localName}` : this.localName;
  }
  getAttribute(name: string): string | null {
    return this.attributes.find((a) => a.name === name)?.value ?? null;
  }
  hasAttribute(name: string): boolean {
    return this.attributes.some((a) => a.name === name);
  }
  get textContent(): string {
    let out = '';
    for (let n = this.firstChild; n; n = n.nextSibling) out += n.textContent;
    return out;
  }
  append(node: LeanNode): void {
    if (this.lastChild) this.lastChild.nextSibling = node;
    else this.firstChild = node;
    this.lastChild = node;
  }
}

type LeanNode = LeanText | LeanElement;

/**
 * The document, with the DOM interface's reading side the core uses (`documentElement`,
 * `firstChild`, `nextSibling`, `nodeType`, `localName`, `namespaceURI`, `getAttribute`,
 * `attributes`, `textContent`); undefined when the text is outside the plain subset.
 */
export function parseLeanXml(text: string): Document | undefined {
  if (FORBIDDEN.test(text)) return undefined;
  const stack: { el: LeanElement; ns: Map<string, string | null> }[] = [];
  let root: LeanElement | undefined;
  let at = 0;
  for (;;) {
    const lt = text.indexOf('<', at);
    const chunk = text.slice(at, lt < 0 ? text.length : lt);
    const top = stack[stack.length - 1];
    if (top) {
      if (lt < 0) return undefined;
      if (chunk !== '') {
        const decoded = decode(chunk);
        if (decoded === undefined || chunk.includes(']]>') || chunk.includes('>')) return undefined;
        top.el.append(new LeanText(decoded));
      }
    } else if (!XML_SPACE.test(chunk)) return undefined; // not String.trim's: it also drops U+00A0, U+FEFF, ...
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      // Before or after the root element only (libvirt's warning); inside it, the DOM decides.
      if (top) return undefined;
      const end = text.indexOf('-->', lt + 4);
      if (end < 0 || text.slice(lt + 4, end).includes('--')) return undefined;
      at = end + 3;
      continue;
    }
    const gt = text.indexOf('>', lt);
    if (gt < 0) return undefined;
    const tag = text.slice(lt + 1, gt);
    at = gt + 1;
    if (tag.startsWith('/')) {
      if (!top || tag.slice(1).trimEnd() !== top.el.tagName) return undefined;
      stack.pop();
      continue;
    }
    if (root && !top) return undefined;
    const selfClosing = tag.endsWith('/');
    const opened = openTag(selfClosing ? tag.slice(0, -1) : tag, top?.ns);
    if (!opened) return undefined;
    if (top) top.el.append(opened.el);
    else root = opened.el;
    if (!selfClosing) stack.push(opened);
  }
  if (!root || stack.length > 0) return undefined;
  return { documentElement: root } as unknown as Document;
}

const ATTRIBUTE = /[ \n\t]+([^\s=/]+)[ \n\t]*=[ \n\t]*(?:"([^"<]*)"|'([^'<]*)')/y;
// (?:...): no star just before the closing slash, which would end the comment the bundle carries the program in.
const TRAILING_SPACE = /(?:[ \n\t]*)/y;

/** `name attr="value" ...` of a start tag: the element, or undefined. */
function openTag(tag: string, parentNs: Map<string, string | null> | undefined): { el: LeanElement; ns: Map<string, string | null> } | undefined {
  const name = /^[^\s]+/.exec(tag)?.[0] ?? '';
  if (!NAME.test(name)) return undefined;
  const raw: { name: string; value: string }[] = [];
  let at = name.length;
  for (;;) {
    ATTRIBUTE.lastIndex = at;
    const m = ATTRIBUTE.exec(tag);
    if (!m) break;
    const attrName = m[1] ?? '';
    const quoted = m[2] ?? m[3] ?? '';
    if (!NAME.test(attrName) || quoted.includes('\t') || quoted.includes('\n')) return undefined;
    const value = decode(quoted);
    if (value === undefined || raw.some((a) => a.name === attrName)) return undefined;
    raw.push({ name: attrName, value });
    at = ATTRIBUTE.lastIndex;
  }
  TRAILING_SPACE.lastIndex = at;
  TRAILING_SPACE.exec(tag);
  if (TRAILING_SPACE.lastIndex !== tag.length) return undefined;
  let ns = parentNs ?? new Map<string, string | null>([['xml', XML_NS]]);
  for (const a of raw) {
    if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) {
      const prefix = a.name === 'xmlns' ? '' : a.name.slice(6);
      if (prefix === 'xml' || prefix === 'xmlns' || (prefix !== '' && a.value === '')) return undefined;
      if (ns === parentNs) ns = new Map(ns);
      ns.set(prefix, a.value === '' ? null : a.value);
    }
  }
  const resolve = (qname: string, isAttribute: boolean): { prefix: string | null; localName: string; namespaceURI: string | null } | undefined => {
    const colon = qname.indexOf(':');
    if (colon < 0) return { prefix: null, localName: qname, namespaceURI: isAttribute ? null : (ns.get('') ?? null) };
    const prefix = qname.slice(0, colon);
    const uri = ns.get(prefix);
    return uri === undefined || uri === null ? undefined : { prefix, localName: qname.slice(colon + 1), namespaceURI: uri };
  };
  const attributes: LeanAttr[] = [];
  for (const a of raw) {
    if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) {
      attributes.push({ name: a.name, prefix: a.name === 'xmlns' ? null : 'xmlns', localName: a.name === 'xmlns' ? 'xmlns' : a.name.slice(6), namespaceURI: 'http://www.w3.org/2000/xmlns/', value: a.value });
      continue;
    }
    const r = resolve(a.name, true);
    if (!r) return undefined;
    attributes.push({ name: a.name, ...r, value: a.value });
  }
  const el = resolve(name, false);
  if (!el) return undefined;
  return { el: new LeanElement(el.localName, el.prefix, el.namespaceURI, attributes), ns };
}

/** Text or an attribute value with its references expanded; undefined for another entity or a bare `&`. */
function decode(text: string): string | undefined {
  if (!text.includes('&')) return text;
  let out = '';
  let at = 0;
  for (let amp = text.indexOf('&'); amp >= 0; amp = text.indexOf('&', at)) {
    const semi = text.indexOf(';', amp);
    if (semi < 0 || semi - amp > 10) return undefined;
    const ref = text.slice(amp + 1, semi);
    const char = ENTITIES[ref] ?? characterReference(ref);
    if (char === undefined) return undefined;
    out += text.slice(at, amp) + char;
    at = semi + 1;
  }
  return out + text.slice(at);
}

/** `#NNN` or `#xHHH`, when it names a character XML 1.0 allows. */
function characterReference(ref: string): string | undefined {
  const hex = /^#x([0-9a-fA-F]{1,6})$/.exec(ref)?.[1];
  const dec = /^#([0-9]{1,7})$/.exec(ref)?.[1];
  const n = hex !== undefined ? parseInt(hex, 16) : dec !== undefined ? parseInt(dec, 10) : NaN;
  const allowed = n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0xfffd) || (n >= 0x10000 && n <= 0x10ffff);
  return allowed ? String.fromCodePoint(n) : undefined;
}
