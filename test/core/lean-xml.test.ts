/**
 * The lean reading of libvirt's plain XML (src/core/lean-xml.ts) against the DOM parse it stands
 * in for (parseXml, xmldom): whatever it reads, it reads as the DOM does (elements, namespaces,
 * attributes, text), on the fixtures, on libvirt-shaped status and persistent files, and on
 * generated documents with the constructs that must send a file to the DOM; and it gives up on
 * each of those constructs.
 */
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Document, Node } from '@xmldom/xmldom';
import { readDomain } from '../../src/core/domain';
import { comparePorts } from '../../src/core/inject';
import { parseLeanXml } from '../../src/core/lean-xml';
import { parseNetworkInfo } from '../../src/core/network-info';
import { parseXml } from '../../src/core/xml-document';
import { fixturePath } from '../support/cli';

/** The document as the readers see it: elements by namespace and name, attributes, text, comments. */
function shape(node: Node): unknown {
  if (node.nodeType === 3) return node.nodeValue;
  if (node.nodeType === 8) return ['#comment', node.nodeValue];
  if (node.nodeType !== 1) return undefined;
  const el = node as unknown as { namespaceURI: string | null; localName: string; attributes: ArrayLike<{ name: string; namespaceURI: string | null; value: string }> };
  const attrs = Array.from(el.attributes).map((a) => `${a.namespaceURI ?? ''}|${a.name}=${a.value}`).sort();
  const children: unknown[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) {
    const s = shape(c);
    if (s !== undefined) children.push(s);
  }
  return [`{${el.namespaceURI ?? ''}}${el.localName}`, attrs, children];
}
const shapeOf = (doc: Document) => shape(doc.documentElement as unknown as Node);
const domParse = (text: string): Document | undefined => {
  try {
    return parseXml(text, 'test');
  } catch {
    return undefined;
  }
};

const fixtures = readdirSync(fixturePath('domains')).map((f) => readFileSync(fixturePath(`domains/${f}`), 'utf8'));
/** libvirt's status file around a domain, as /run/libvirt/qemu holds it. */
const status = (domain: string) =>
  `<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\nOVERWRITTEN AND LOST.\n-->\n<domstatus state='running' reason='booted' pid='4242'>\n  <taint flag='high-privileges'/>\n  <monitor path='/var/lib/libvirt/qemu/domain-7-x/monitor.sock' type='unix'/>\n  <qemuCaps>\n    <flag name='kvm'/>\n  </qemuCaps>\n  ${domain.replace("<domain type='kvm'>", "<domain type='kvm' id='7'>").replace(/\n/g, '\n  ')}\n</domstatus>\n`;

test('the fixtures, as persistent and as status files: read as the DOM reads them', () => {
  let read = 0;
  for (const text of [...fixtures, ...fixtures.map(status), ...fixtures.map((f) => f.replace(/\n\s*<!--.*-->/g, ''))]) {
    const lean = parseLeanXml(text)?.document;
    assert.ok(lean, text.slice(0, 200));
    read++;
    const dom = parseXml(text, 'fixture');
    assert.equal(shapeOf(lean), shapeOf(dom));
    const [a, b] = [readDomain(lean, 'lean'), readDomain(dom, 'dom')];
    assert.equal(
      { name: a.name, uuid: a.uuid, interfaces: a.interfaces, nova: a.nova && { ...a.nova, element: undefined }, id: a.element.getAttribute('id') },
      { name: b.name, uuid: b.uuid, interfaces: b.interfaces, nova: b.nova && { ...b.nova, element: undefined }, id: b.element.getAttribute('id') },
    );
    const vifs = parseNetworkInfo(readFileSync(fixturePath('network_info/two-ports.json'), 'utf8'), 'two-ports');
    assert.equal(comparePorts(a, vifs), comparePorts(b, vifs));
  }
  assert.is(read, fixtures.length * 3, 'every one read');
});

const BAIL: Record<string, string> = {
  'an XML declaration': `<?xml version="1.0"?><domain/>`,
  'a DOCTYPE': `<!DOCTYPE domain><domain/>`,
  CDATA: `<domain><name><![CDATA[x]]></name></domain>`,
  'a processing instruction': `<domain><?pi x?></domain>`,
  'a comment holding --': `<domain><!-- a -- b --><name>x</name></domain>`,
  'a comment ending in a dash': `<domain><!-- a ---><name>x</name></domain>`,
  'a comment not closed': `<domain><!-- a <name>x</name></domain>`,
  'another entity': `<domain><name>&nbsp;</name></domain>`,
  'a bare ampersand': `<domain><name>a & b</name></domain>`,
  'an unbound prefix': `<domain><nova:instance/></domain>`,
  'a repeated attribute': `<domain a="1" a="2"/>`,
  'a mismatched end tag': `<domain><name>x</nam></domain>`,
  'an unclosed element': `<domain><name>x</name>`,
  'a carriage return': `<domain>\r\n<name>x</name></domain>`,
  'a tab in an attribute': `<domain a="x\ty"/>`,
  'text outside the root': `x<domain/>`,
  'a no-break space before the root': `\u00a0<domain/>`,
  'a no-break space after the root': `<domain/>\u00a0`,
  'a byte order mark before the root': `\ufeff<domain/>`,
  'a line separator after the root': `<domain/>\u2028`,
  'two roots': `<domain/><domain/>`,
  'a raw > in text': `<domain>a > b</domain>`,
  'a > in an attribute': `<domain a="x>y"/>`,
  'a non-ASCII name': `<domaïn/>`,
  'an unquoted attribute': `<domain a=1/>`,
  'a reference to a control character': `<domain>&#1;</domain>`,
  'an undeclared default reset of a prefix': `<domain xmlns:n="u"><n:a xmlns:n=""/></domain>`,
};
for (const [what, text] of Object.entries(BAIL)) {
  test(`gives up on ${what}`, () => {
    assert.is(parseLeanXml(text), undefined);
  });
}

// Documents made of the pieces libvirt's files are made of, and the ones that must go to the DOM.
const name = fc.constantFrom('domain', 'name', 'n:instance', 'n:ports', 'port', 'ip', 'a_b', 'x.y-z', 'm:e');
const text = fc.constantFrom('', 'x', ' ', '\n  ', 'a &amp; b', '&lt;&gt;', '&#233;&#x1F600;', 'é', '&quot;&apos;', 'a > b', '&bogus;', 'a & b', ']]>', '\t', '&#0;', '\r');
const attrValue = fc.constantFrom('v', '', 'a&amp;b', '&lt;x&gt;', "it's", '&#10;', 'x\ty', 'é', 'u', 'http://openstack.org/xmlns/libvirt/nova/1.1');
// White space inside tags, as XML allows it (libvirt writes one space before each attribute).
const space = fc.constantFrom('', ' ', '\n  ', '\t');
const separator = fc.constantFrom(' ', '  ', '\n    ', '\t');
const attr = fc.tuple(separator, fc.constantFrom('uuid', 'type', 'xmlns', 'xmlns:n', 'xmlns:m', 'n:a', 'id', 'xml:lang', 'a'), space, space, attrValue, fc.constantFrom('"', "'"));
const element: fc.Memo<string> = fc.memo((depth) =>
  fc
    .tuple(name, fc.array(attr, { maxLength: 3 }), space, depth <= 1 ? fc.constant([]) : fc.array(fc.oneof(text, element(depth - 1), fc.constantFrom('<!-- c -->', '<!---->', '<!--a-b-->', '<!-- - -->', '<!--<x>&amp;-->', '<!-- a --->', '<!-- -- -->', '<![CDATA[c]]>', '<?p q?>')), { maxLength: 4 }), fc.boolean(), space)
    .map(([n, attrs, beforeEnd, children, empty, inEndTag]) => {
      const a = attrs.map(([sep, k, s1, s2, v, q]) => `${sep}${k}${s1}=${s2}${q}${q === "'" ? v.replace(/'/g, '&apos;') : v}${q}`).join('');
      return empty && children.length === 0 ? `<${n}${a}${beforeEnd}/>` : `<${n}${a}${beforeEnd}>${children.join('')}</${n}${inEndTag}>`;
    }),
);
const documentText = fc.tuple(fc.constantFrom('', '<!--\nWARNING\n-->\n', ' ', '<?xml version="1.0"?>', '\u00a0', '\t\n'), element(4), fc.constantFrom('', '\n', '<!-- end -->', '\u00a0'))
  .map(([head, root, tail]) => `${head}${root}${tail}`);

test('generated documents: what it reads, the DOM reads alike; what the DOM refuses, it refuses too', () => {
  let read = 0;
  fc.assert(
    fc.property(documentText, (doc) => {
      const lean = parseLeanXml(doc)?.document;
      if (!lean) return;
      read++;
      const dom = domParse(doc);
      assert.ok(dom, `read a document the DOM refuses: ${JSON.stringify(doc)}`);
      assert.equal(shapeOf(lean), shapeOf(dom), JSON.stringify(doc));
    }),
    { numRuns: 3000 },
  );
  assert.ok(read > 100, `only ${read} documents read: the generator makes too few plain ones`);
});

test.run();
