/**
 * A reading of the plain XML libvirt writes, without an XML library: for reconcile's in-sync
 * decision over hundreds of domains (docs/design.md, "Reconcile from libvirt's files"), where a
 * DOM parse per file costs most of the run, and for the hook's filter and `inject`, which change
 * `<nova:ports>` in it and print it (core/domain-change.ts) without loading the XML library. It
 * builds only what `readDomain`, the nova element readers and core/nova-ports.ts use: elements
 * (name, namespace, attributes), text and comments, read exactly as xmldom reads them, and gives
 * up (undefined: the caller parses the DOM) on anything outside that plain subset: a
 * declaration, processing instruction, DOCTYPE, CDATA, a carriage return or other control
 * character, a name that is not plain ASCII, an entity other than the five predefined and
 * character references, a tab or line break in an attribute value, an unbound prefix, a repeated
 * attribute, a mismatched end tag. Each node keeps where it was read, so what is printed is the
 * text as it came but for the elements changed (`LeanXml.serialize`).
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

type Namespaces = Map<string, string | null>;

/**
 * Where a node sits in the text it was read from (-1 for one made since: nothing to copy). Each
 * field here is paid for by every node reconcile and `find` read, hundreds of files at a time, so
 * what only a change needs is found when needed: a start tag's end and an end tag's start from
 * the text, a namespace by walking up.
 */
abstract class LeanNodeBase {
  parentNode: LeanElement | null = null;
  nextSibling: LeanNode | null = null;
  constructor(
    readonly start: number,
    /** Just after its last character: its end tag's `>`, or its text's end. */
    public end: number,
  ) {}
  get previousSibling(): LeanNode | null {
    let prev: LeanNode | null = null;
    for (let n = this.parentNode?.firstChild ?? null; n && n !== (this as LeanNodeBase); n = n.nextSibling) prev = n;
    return prev;
  }
}

/** A text or a comment: its value is all it holds. */
abstract class LeanCharacterData extends LeanNodeBase {
  constructor(
    readonly nodeValue: string,
    start: number,
    end: number,
  ) {
    super(start, end);
  }
  get textContent(): string {
    return this.nodeValue;
  }
}

/** Read and copied as it came; a document is never given a new one. */
class LeanComment extends LeanCharacterData {
  readonly nodeType = 8;
}

class LeanText extends LeanCharacterData {
  readonly nodeType = 3;
  constructor(nodeValue: string, start = -1, end = -1) {
    super(nodeValue, start, end);
  }
}

/** `LeanElement.changed`: what changed in it since it was read. */
const CHILDREN = 1;
const ATTRIBUTES = 2;
/** An element somewhere inside it changed: set up to the root, so `serialize` goes down only there. */
const INSIDE = 4;

class LeanElement extends LeanNodeBase {
  readonly nodeType = 1;
  firstChild: LeanNode | null = null;
  lastChild: LeanNode | null = null;
  /** CHILDREN, ATTRIBUTES and INSIDE, as they changed: 0 for an element as it was read. */
  changed = 0;
  constructor(
    /** The name as written: `prefix:localName`, or `localName`. */
    readonly tagName: string,
    readonly localName: string,
    readonly prefix: string | null,
    readonly namespaceURI: string | null,
    readonly attributes: LeanAttr[],
    /** On each element, as the DOM has it: a WeakMap for the few that need it slowed every reading (docs/design.md, "Cost"). */
    readonly ownerDocument: LeanDocument,
    start = -1,
  ) {
    super(start, -1);
  }
  getAttribute(name: string): string | null {
    return this.attributes.find((a) => a.name === name)?.value ?? null;
  }
  hasAttribute(name: string): boolean {
    return this.attributes.some((a) => a.name === name);
  }
  /** Without a namespace, as the DOM's setAttribute: a prefixed or xmlns name is refused. */
  setAttribute(name: string, value: string): void {
    if (!PLAIN_NAME.test(name) || name === 'xmlns') throw new Error(`lean XML: setAttribute(${JSON.stringify(name)}): not a plain attribute name`);
    const attr: LeanAttr = { name, prefix: null, localName: name, namespaceURI: null, value };
    const at = this.attributes.findIndex((a) => a.name === name);
    if (at >= 0) this.attributes[at] = attr;
    else this.attributes.push(attr);
    this.change(ATTRIBUTES);
  }
  /**
   * Its text, as the DOM's: every text node inside it in document order, its comments' not
   * included. A loop, not a recursion: hostile XML nests elements thousands deep.
   */
  get textContent(): string {
    let out = '';
    let n = this.firstChild;
    while (n) {
      if (n.nodeType === 3) out += n.nodeValue;
      else if (n instanceof LeanElement && n.firstChild) {
        n = n.firstChild;
        continue;
      }
      let next = n.nextSibling;
      for (let up = n.parentNode; !next && up && up !== this; up = up.parentNode) next = up.nextSibling;
      n = next;
    }
    return out;
  }
  /** A child as read: nothing changed. */
  adopt(node: LeanNode): void {
    node.parentNode = this;
    if (this.lastChild) this.lastChild.nextSibling = node;
    else this.firstChild = node;
    this.lastChild = node;
  }
  appendChild(node: LeanNode): LeanNode {
    return this.insertBefore(node, null);
  }
  insertBefore(node: LeanNode, ref: LeanNode | null): LeanNode {
    if (ref && ref.parentNode !== this) throw new Error('lean XML: insertBefore: not a child');
    if (node === this || (node instanceof LeanElement && node.contains(this))) throw new Error('lean XML: insertBefore: an ancestor');
    if (ref === node) return node; // before itself: where it is already
    node.parentNode?.removeChild(node);
    if (!ref) this.adopt(node);
    else {
      const prev = ref.previousSibling;
      if (prev) prev.nextSibling = node;
      else this.firstChild = node;
      node.nextSibling = ref;
      node.parentNode = this;
    }
    this.change(CHILDREN);
    return node;
  }
  removeChild(child: LeanNode): LeanNode {
    if (child.parentNode !== this) throw new Error('lean XML: removeChild: not a child');
    const prev = child.previousSibling;
    if (prev) prev.nextSibling = child.nextSibling;
    else this.firstChild = child.nextSibling;
    if (this.lastChild === child) this.lastChild = prev;
    child.parentNode = null;
    child.nextSibling = null;
    this.change(CHILDREN);
    return child;
  }
  contains(node: LeanNode): boolean {
    for (let el = node.parentNode; el; el = el.parentNode) if (el === this) return true;
    return false;
  }
  private change(what: number): void {
    this.changed |= what;
    // Up to the first that knows already: its ancestors do too.
    for (let el = this.parentNode; el && (el.changed & INSIDE) === 0; el = el.parentNode) el.changed |= INSIDE;
  }
}

type LeanNode = LeanText | LeanComment | LeanElement;

/** The namespace `prefix` (null: the default one) names at `from`: declared there or above it; a loop, as textContent. */
function namespaceAt(from: LeanElement, prefix: string | null): string | null {
  if (prefix === 'xml') return XML_NS;
  const declaration = prefix === null ? 'xmlns' : `xmlns:${prefix}`;
  for (let el: LeanElement | null = from; el; el = el.parentNode) {
    const declared = el.getAttribute(declaration);
    if (declared !== null) return declared === '' ? null : declared;
  }
  return null;
}

/**
 * What `parseLeanXml` gives: the document, through the DOM interface the core uses (reading:
 * `documentElement`, `firstChild`, `nextSibling`, `previousSibling`, `nodeType`, `localName`,
 * `namespaceURI`, `prefix`, `getAttribute`, `attributes`, `textContent`; changing:
 * `createElementNS`, `createTextNode`, `setAttribute`, `appendChild`, `insertBefore`,
 * `removeChild`, what core/nova-ports.ts calls), and the text it makes.
 */
export interface LeanXml {
  readonly document: Document;
  /**
   * The text it was read from, but for the elements changed since, which are written anew, their
   * children that were not changed copied as they were read (entities, quotes, line breaks and
   * comments alike). A made element gets no namespace declaration: one whose prefix is not bound
   * to its namespace where it stands is refused (an error), never written in another namespace.
   */
  serialize(): string;
}

class LeanDocument implements LeanXml {
  /** Set once the text is read. */
  documentElement!: LeanElement;
  constructor(readonly text: string) {}
  get document(): Document {
    return this as unknown as Document;
  }
  createElementNS(namespaceURI: string | null, qualifiedName: string): LeanElement {
    if (!NAME.test(qualifiedName)) throw new Error(`lean XML: createElementNS(${JSON.stringify(qualifiedName)}): not a name`);
    const colon = qualifiedName.indexOf(':');
    const prefix = colon < 0 ? null : qualifiedName.slice(0, colon);
    return new LeanElement(qualifiedName, qualifiedName.slice(colon + 1), prefix, namespaceURI || null, [], this);
  }
  createTextNode(data: string): LeanText {
    return new LeanText(data);
  }
  serialize(): string {
    const root = this.documentElement;
    const written = writeNode(root, this.text);
    return written === undefined ? this.text : this.text.slice(0, root.start) + written + this.text.slice(root.end);
  }
}

/**
 * `node` as text, written anew; undefined when it was read and nothing in it changed since, and
 * its text is the one read (`text.slice(node.start, node.end)`).
 */
function writeNode(node: LeanNode, text: string): string | undefined {
  if (node instanceof LeanText) return node.start >= 0 ? undefined : escapeMarkup(node.nodeValue, TEXT_ESCAPES);
  if (node instanceof LeanComment) return undefined;
  if (node.start < 0 && (node.parentNode ? namespaceAt(node.parentNode, node.prefix) : null) !== node.namespaceURI) {
    throw new Error(`lean XML: <${node.tagName}> made in ${node.namespaceURI ?? 'no namespace'}, which its prefix does not name there`);
  }
  // Down only where something changed (so only as deep as the change: hostile XML nests thousands deep).
  if (node.start >= 0 && node.changed === 0) return undefined;
  let children = '';
  for (let c = node.firstChild; c; c = c.nextSibling) children += writeNode(c, text) ?? text.slice(c.start, c.end);
  // A start tag as read ends at its first `>` (the reader refuses one in a value); an element
  // read with an end tag does not end in `/>`, and its end tag is its last `</`.
  const selfClosing = node.start >= 0 && text.charCodeAt(node.end - 2) === 0x2f;
  if (node.start >= 0 && !selfClosing && (node.changed & ATTRIBUTES) === 0) {
    return text.slice(node.start, text.indexOf('>', node.start) + 1) + children + text.slice(text.lastIndexOf('</', node.end - 1), node.end);
  }
  const open = `<${node.tagName}${node.attributes.map((a) => ` ${a.name}="${escapeMarkup(a.value, ATTRIBUTE_ESCAPES)}"`).join('')}`;
  return children === '' ? `${open}/>` : `${open}>${children}</${node.tagName}>`;
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
/** Tabs and line breaks too: a parser would read them in a value as spaces. */
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

function escapeMarkup(value: string, escapes: Readonly<Record<string, string>>): string {
  return value.replace(/[&<>"\t\n\r]/g, (c) => escapes[c] ?? c);
}

/** The document read from `text`; undefined when the text is outside the plain subset. */
export function parseLeanXml(text: string): LeanXml | undefined {
  if (FORBIDDEN.test(text)) return undefined;
  const doc = new LeanDocument(text);
  const stack: Opened[] = [];
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
        top.el.adopt(new LeanText(decoded, at, lt));
      }
    } else if (!XML_SPACE.test(chunk)) return undefined; // not String.trim's: it also drops U+00A0, U+FEFF, ...
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      // libvirt's warning before the root element of its files; an operator's note inside it.
      const end = text.indexOf('-->', lt + 4);
      const data = end < 0 ? '' : text.slice(lt + 4, end);
      if (end < 0 || data.includes('--') || data.endsWith('-')) return undefined;
      at = end + 3;
      if (top) top.el.adopt(new LeanComment(data, lt, at));
      continue;
    }
    const gt = text.indexOf('>', lt);
    if (gt < 0) return undefined;
    const tag = text.slice(lt + 1, gt);
    at = gt + 1;
    if (tag.startsWith('/')) {
      if (!top || tag.slice(1).trimEnd() !== top.el.tagName) return undefined;
      top.el.end = at;
      stack.pop();
      continue;
    }
    if (root && !top) return undefined;
    const selfClosing = tag.endsWith('/');
    const opened = openTag(selfClosing ? tag.slice(0, -1) : tag, top?.ns, doc, lt);
    if (!opened) return undefined;
    if (top) top.el.adopt(opened.el);
    else root = opened.el;
    if (selfClosing) opened.el.end = at;
    else stack.push(opened);
  }
  if (!root || stack.length > 0) return undefined;
  doc.documentElement = root;
  return doc;
}

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** An element open while its content is read, with the namespaces in scope inside it. */
interface Opened {
  readonly el: LeanElement;
  readonly ns: Namespaces;
}

/**
 * `name attr="value" ...` of a start tag: the element, or undefined. Read by hand rather than by
 * regular expressions, which made a match array and a string per name and value: over a few
 * hundred files that garbage cost more than the reading (docs/design.md, "Cost").
 */
function openTag(tag: string, parentNs: Namespaces | undefined, doc: LeanDocument, start: number): Opened | undefined {
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
  if (colon < 0) return { el: new LeanElement(name, name, null, ns.get('') ?? null, attributes, doc, start), ns };
  const uri = ns.get(name.slice(0, colon));
  if (uri === undefined || uri === null) return undefined;
  return { el: new LeanElement(name, name.slice(colon + 1), name.slice(0, colon), uri, attributes, doc, start), ns };
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
