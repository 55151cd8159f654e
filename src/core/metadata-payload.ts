/**
 * The one line handed to `virsh metadata --uri URI --key nova --set LINE`, built so that libvirt
 * ends up holding nova's element exactly as it is in our DOM (ports included), or a refusal
 * saying why that cannot be done: a domain is never written with anything else changed.
 *
 * What libvirt does with the line (docs/design.md, "virsh metadata"): it parses it, declares
 * `xmlns:nova="URI"` on the root (refusing a root that declares `nova` itself) and puts the root
 * and every element that has no namespace into URI; everything else stays as given: elements and
 * attributes in other namespaces with their declarations, comments, processing instructions,
 * CDATA sections, character references. So nova's own elements are written unqualified and every
 * other namespace is declared where it is used (under another prefix than `nova`: a prefix is a
 * spelling, the URI is the name). An element in no namespace cannot be carried: libvirt would
 * move it into nova's.
 *
 * What virsh can carry (docs/design.md, "virsh reading commands on stdin"): one line, read by
 * readline, to which TAB, DEL and the line breaks are editing keys. In text and attribute values
 * they (and the C1 controls) are written as character references, which read back as the very
 * characters; comments, processing instructions and CDATA sections have no references, so one
 * holding such a character is refused. Whitespace-only text among elements is indentation, which
 * libvirt writes anew: it is left out, because virsh reads an argument slowly (about 2 µs a byte).
 *
 * Last, the line is read back as libvirt will read it and compared node for node with the
 * element: whatever would not come back the same is refused rather than written.
 */
import type { Attr, Element, Node } from '@xmldom/xmldom';
import { InputError } from '../errors';
import { elementFingerprint } from './element-fingerprint';
import { CDATA_SECTION_NODE, COMMENT_NODE, ELEMENT_NODE, parseXml, PROCESSING_INSTRUCTION_NODE, TEXT_NODE, XML_NS, XML_SPACE } from './xml-document';

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
/** The prefix libvirt declares on the root for `--key nova`: never declared by us. */
const LIBVIRT_PREFIX = 'nova';

/** What readline takes as a key rather than text: written as a character reference where XML has them. */
const KEYS = /[\t\n\r\u007f-\u009f]/gu;
/** Characters XML 1.0 does not allow at all (a parser may still hand them over from a character reference). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is matched
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|\p{Cs}/u;

/** `source` names the domain and definition in a refusal. Throws InputError when the element cannot be carried. */
export function metadataPayload(instance: Element, source: string): string {
  const uri = instance.namespaceURI;
  if (uri === null) throw new InputError(source, "nova's element has no namespace");
  const refuse = (problem: string): never => {
    throw new InputError(source, `nova's element cannot be written through virsh metadata unchanged: ${problem}`);
  };
  const line = new Writer(uri, refuse).element(instance, { default: null, prefixes: new Map() });
  const back = parseXml(line, `${source}: the payload for virsh metadata`).documentElement;
  if (!back || elementFingerprint(back, { exact: true, unqualifiedAs: uri }) !== elementFingerprint(instance, { exact: true })) {
    refuse('it would not read back the same');
  }
  return line;
}

/** The namespaces in scope in what has been written so far (not in the source element). */
interface Scope {
  readonly default: string | null;
  readonly prefixes: ReadonlyMap<string, string>;
}

class Writer {
  constructor(
    private readonly nova: string,
    private readonly refuse: (problem: string) => never,
  ) {}

  element(el: Element, outer: Scope): string {
    const local = el.localName ?? el.nodeName;
    const ns = el.namespaceURI;
    // Declarations made here, '' for the default namespace; what they bind is in scope below.
    const declared = new Map<string, string>();
    let defaultNs = outer.default;
    const prefixes = new Map(outer.prefixes);
    const bind = (prefix: string, namespace: string): void => {
      declared.set(prefix, namespace);
      prefixes.set(prefix, namespace);
    };
    // Prefixes this element's own name and attributes rely on: never declared again here.
    const used = new Set<string>();
    /** A prefix that means `namespace` here: the wanted one if it does, any that does, else one declared here. */
    const prefixFor = (namespace: string, wanted: string | null): string => {
      let p: string | undefined;
      if (wanted !== null && wanted !== LIBVIRT_PREFIX && prefixes.get(wanted) === namespace) p = wanted;
      else p = [...prefixes].find(([, n]) => n === namespace)?.[0];
      if (p === undefined) {
        const free = (q: string) => q !== LIBVIRT_PREFIX && !declared.has(q) && !used.has(q);
        p = wanted !== null && free(wanted) ? wanted : undefined;
        for (let i = 1; p === undefined; i++) if (free(`ns${i}`)) p = `ns${i}`;
        bind(p, namespace);
      }
      used.add(p);
      return p;
    };

    let name: string;
    if (ns === null) {
      this.refuse(`<${el.nodeName}> has no namespace, and libvirt would put it in nova's`);
    } else if (ns === this.nova) {
      name = local;
      if (defaultNs !== null) {
        declared.set('', '');
        defaultNs = null;
      }
    } else if (el.prefix === null || el.prefix === '') {
      name = local;
      if (defaultNs !== ns) {
        declared.set('', ns);
        defaultNs = ns;
      }
    } else {
      name = `${prefixFor(ns, el.prefix)}:${local}`;
    }

    const attributes: string[] = [];
    for (const a of Array.from<Attr>(el.attributes)) {
      if (a.namespaceURI === XMLNS_NS) continue; // declarations are made where they are needed
      const aLocal = a.localName ?? a.name;
      let aName: string;
      if (a.namespaceURI === null) aName = aLocal;
      else if (a.namespaceURI === XML_NS) aName = `xml:${aLocal}`;
      else aName = `${prefixFor(a.namespaceURI, a.prefix)}:${aLocal}`;
      attributes.push(` ${aName}="${this.attributeValue(a.value, `${name} ${aName}`)}"`);
    }
    const declarations = [...declared].map(([p, n]) => ` ${p === '' ? 'xmlns' : `xmlns:${p}`}="${this.attributeValue(n, 'a namespace')}"`);

    const inner = this.children(el, { default: defaultNs, prefixes });
    const open = `<${name}${declarations.join('')}${attributes.join('')}`;
    return inner === '' ? `${open}/>` : `${open}>${inner}</${name}>`;
  }

  private children(el: Element, scope: Scope): string {
    let hasElements = false;
    for (let n = el.firstChild; n && !hasElements; n = n.nextSibling) hasElements = n.nodeType === ELEMENT_NODE;
    let out = '';
    for (let n: Node | null = el.firstChild; n; n = n.nextSibling) {
      const value = n.nodeValue ?? '';
      switch (n.nodeType) {
        case ELEMENT_NODE:
          out += this.element(n as Element, scope);
          break;
        case TEXT_NODE:
          if (!(hasElements && XML_SPACE.test(value))) out += this.text(value, `the text of <${el.nodeName}>`);
          break;
        case CDATA_SECTION_NODE:
          if (!(hasElements && XML_SPACE.test(value))) out += `<![CDATA[${this.literal(value, `a CDATA section in <${el.nodeName}>`)}]]>`;
          break;
        case COMMENT_NODE:
          out += `<!--${this.literal(value, `a comment in <${el.nodeName}>`)}-->`;
          break;
        case PROCESSING_INSTRUCTION_NODE:
          out += `<?${n.nodeName}${value === '' ? '' : ` ${this.literal(value, `the processing instruction <?${n.nodeName}?> in <${el.nodeName}>`)}`}?>`;
          break;
        default:
          this.refuse(`a node of type ${n.nodeType} in <${el.nodeName}>`);
      }
    }
    return out;
  }

  private text(value: string, where: string): string {
    this.checkXml(value, where);
    return value.replace(/[&<>]/g, (c) => ENTITY[c] ?? c).replace(KEYS, reference);
  }

  private attributeValue(value: string, where: string): string {
    this.checkXml(value, where);
    return value.replace(/[&<"]/g, (c) => ENTITY[c] ?? c).replace(KEYS, reference);
  }

  /** Comments, processing instructions and CDATA sections: no escapes exist there. */
  private literal(value: string, where: string): string {
    this.checkXml(value, where);
    const key = value.match(KEYS)?.[0];
    if (key !== undefined) this.refuse(`${where} holds ${codePoint(key)}, which virsh cannot be sent and which has no escape there`);
    return value;
  }

  private checkXml(value: string, where: string): void {
    const bad = NOT_XML.exec(value)?.[0];
    if (bad !== undefined) this.refuse(`${where} holds ${codePoint(bad)}, which XML does not allow`);
  }
}

const ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function reference(c: string): string {
  return `&#${c.charCodeAt(0)};`;
}

function codePoint(c: string): string {
  return `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
