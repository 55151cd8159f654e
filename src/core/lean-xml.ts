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
    /** The name as written: `prefix:localName`, or `localName`. */
    readonly tagName: string,
    readonly localName: string,
    readonly prefix: string | null,
    readonly namespaceURI: string | null,
    readonly attributes: readonly LeanAttr[],
  ) {}
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

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
type Namespaces = Map<string, string | null>;

/**
 * `name attr="value" ...` of a start tag: the element, or undefined. Read by hand rather than by
 * regular expressions, which made a match array and a string per name and value: over a few
 * hundred files that garbage cost more than the reading (docs/design.md, "Cost").
 */
function openTag(tag: string, parentNs: Namespaces | undefined): { el: LeanElement; ns: Namespaces } | undefined {
  const name = tag.slice(0, skipTo(tag, 0, isSpace));
  if (!NAME.test(name)) return undefined;
  // Each attribute as written, name then value (still to decode), one after the other.
  const raw: string[] = [];
  let at = name.length;
  for (let next = attributeAt(tag, at, raw); next >= 0; next = attributeAt(tag, at, raw)) at = next;
  // What follows the last attribute may only be white space; anything else is outside the subset.
  if (skipTo(tag, at, isNotSpace) !== tag.length) return undefined;
  let ns = parentNs ?? new Map<string, string | null>([['xml', XML_NS]]);
  for (let i = 0; i < raw.length; i += 2) {
    const attrName = raw[i] ?? '';
    const written = raw[i + 1] ?? '';
    // A tab or line break in a value is normalized to a space by the DOM: not this reader's subset.
    if (!NAME.test(attrName) || written.includes('\t') || written.includes('\n')) return undefined;
    const value = decode(written);
    if (value === undefined) return undefined;
    for (let j = 0; j < i; j += 2) if (raw[j] === attrName) return undefined;
    raw[i + 1] = value;
    if (attrName === 'xmlns' || attrName.startsWith('xmlns:')) {
      const prefix = attrName === 'xmlns' ? '' : attrName.slice(6);
      if (prefix === 'xml' || prefix === 'xmlns' || (prefix !== '' && value === '')) return undefined;
      if (ns === parentNs) ns = new Map(ns);
      ns.set(prefix, value === '' ? null : value);
    }
  }
  const attributes: LeanAttr[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const attrName = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    if (attrName === 'xmlns' || attrName.startsWith('xmlns:')) {
      const own = attrName === 'xmlns';
      attributes.push({ name: attrName, prefix: own ? null : 'xmlns', localName: own ? 'xmlns' : attrName.slice(6), namespaceURI: XMLNS_NS, value });
      continue;
    }
    const colon = attrName.indexOf(':');
    if (colon < 0) {
      attributes.push({ name: attrName, prefix: null, localName: attrName, namespaceURI: null, value });
      continue;
    }
    const uri = ns.get(attrName.slice(0, colon));
    if (uri === undefined || uri === null) return undefined;
    attributes.push({ name: attrName, prefix: attrName.slice(0, colon), localName: attrName.slice(colon + 1), namespaceURI: uri, value });
  }
  const colon = name.indexOf(':');
  if (colon < 0) return { el: new LeanElement(name, name, null, ns.get('') ?? null, attributes), ns };
  const uri = ns.get(name.slice(0, colon));
  if (uri === undefined || uri === null) return undefined;
  return { el: new LeanElement(name, name.slice(colon + 1), name.slice(0, colon), uri, attributes), ns };
}

/**
 * The attribute at `at` (white space, a name, `=`, a quoted value without `<`), pushed onto `out`
 * as its name and its value as written; where it ends, or -1 when none is there. The name stops
 * at white space, `=` or `/`; one holding anything else a name may not is refused by NAME after.
 */
function attributeAt(tag: string, at: number, out: string[]): number {
  const nameStart = skipTo(tag, at, isNotSpace);
  if (nameStart === at) return -1;
  const nameEnd = skipTo(tag, nameStart, endsAttributeName);
  if (nameEnd === nameStart) return -1;
  const equals = skipTo(tag, nameEnd, isNotSpace);
  if (tag.charCodeAt(equals) !== 0x3d) return -1;
  const open = skipTo(tag, equals + 1, isNotSpace);
  const quote = tag.charAt(open);
  if (quote !== '"' && quote !== "'") return -1;
  const close = tag.indexOf(quote, open + 1);
  if (close < 0) return -1;
  const lt = tag.indexOf('<', open + 1);
  if (lt >= 0 && lt < close) return -1;
  out.push(tag.slice(nameStart, nameEnd), tag.slice(open + 1, close));
  return close + 1;
}

/**
 * The first index from `at` where `stop` (a global expression for one character) matches, or the
 * text's length. A builtin's search, not a test per character in JavaScript: a realistic domain
 * has thousands of characters in names and between attributes, and a function called for each
 * got hot enough in a start of a few milliseconds for V8 to optimize it, a compilation that such
 * a start never earns back.
 */
function skipTo(text: string, at: number, stop: RegExp): number {
  stop.lastIndex = at;
  return stop.test(text) ? stop.lastIndex - 1 : text.length;
}

/** XML's white space as libvirt writes it (a carriage return never gets here: FORBIDDEN). */
const isSpace = /[ \n\t]/g;
const isNotSpace = /[^ \n\t]/g;
const endsAttributeName = /[ \n\t=/]/g;

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
