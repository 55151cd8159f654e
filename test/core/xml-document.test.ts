/** parseXml / serializeXml: malformed XML, DOCTYPEs and entities are refused with one clear line; the rest round-trips. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../src/errors';
import { parseDomain } from '../../src/core/domain';
import { MAX_XML_BYTES, parseXml, serializeXml } from '../../src/core/xml-document';
import { fixture } from '../support/builders';

function refused(xml: string, message: string | RegExp): void {
  let error: unknown;
  try {
    parseDomain(xml, 'd.xml');
  } catch (err) {
    error = err;
  }
  if (error === undefined) assert.unreachable(`accepted: ${xml.slice(0, 200)}`);
  assert.instance(error, InputError);
  assert.is((error as InputError).where, 'd.xml');
  assert.not.match((error as Error).message, '\n');
  if (typeof message === 'string') assert.is((error as Error).message, `d.xml: ${message}`);
  else assert.match((error as Error).message, message);
}

const wallaby = fixture('domains/wallaby-nova-ports.xml');

test('a DOCTYPE with an entity is refused before parsing', () => {
  refused('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><domain><name>&a;</name></domain>', 'XML with a DOCTYPE is not accepted');
  refused(`<?xml version="1.0"?>\n<!doctype domain SYSTEM "file:///etc/passwd">\n${wallaby}`, 'XML with a DOCTYPE is not accepted');
  const laughs = `<!DOCTYPE l [<!ENTITY l0 "ha">${Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('')}]><domain><name>&l9;</name></domain>`;
  refused(laughs, 'XML with a DOCTYPE is not accepted');
});

test('an entity that is not one of the five predefined is refused', () => {
  refused(wallaby.replace('<name>instance-0000002b</name>', '<name>&nbsp;x</name>'), /^d\.xml: malformed XML: .*&nbsp;/);
  refused(wallaby.replace('db-1', '&a;'), /^d\.xml: malformed XML: .*&a;/);
});

test('malformed XML is refused with one line', () => {
  const cases: [string, string | RegExp][] = [
    ['', 'malformed XML: missing root element'],
    ['   \n', 'malformed XML: missing root element'],
    ['just text', /^d\.xml: malformed XML: /],
    ['<domain>', /^d\.xml: malformed XML: .*unclosed/],
    ['<domain><name>x</domain>', /^d\.xml: malformed XML: .*mismatch/],
    [wallaby.replace('</metadata>', ''), /^d\.xml: malformed XML: /],
    [wallaby.slice(0, wallaby.length / 2), /^d\.xml: malformed XML: /],
    [`${wallaby}<domain/>`, /^d\.xml: malformed XML: /],
    [`${wallaby}trailing`, /^d\.xml: malformed XML: /],
    ["<domain type='kvm' type='xen'/>", /^d\.xml: malformed XML: .*redefined/],
    ['<domain type=kvm><name>x</name></domain>', /^d\.xml: malformed XML: /],
    ['<domain type><name>x</name></domain>', /^d\.xml: malformed XML: /],
    ['<domain a="<"/>', /^d\.xml: malformed XML: /],
    ['<domain><x:y/></domain>', /^d\.xml: malformed XML: .*namespace/],
    ['<domain>&amp</domain>', /^d\.xml: malformed XML: /],
  ];
  for (const [xml, message] of cases) refused(xml, message);
});

test(`a document over ${MAX_XML_BYTES} bytes is refused before parsing`, () => {
  refused(`<domain>${' '.repeat(MAX_XML_BYTES)}</domain>`, `XML larger than ${MAX_XML_BYTES} bytes`);
});

test('a document that is not a domain, or a domain without name or UUID', () => {
  refused('<network><name>default</name></network>', 'not a libvirt domain XML (no <domain> root element)');
  refused('<domstatus><network/></domstatus>', 'not a libvirt domain XML (no <domain> root element)');
  refused('<domain xmlns="urn:x"><name>a</name></domain>', 'not a libvirt domain XML (no <domain> root element)');
  refused('<domain><uuid>0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5</uuid></domain>', '<domain> has no <name>');
  refused('<domain><name>  </name><uuid>0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5</uuid></domain>', '<domain> has no <name>');
  refused('<domain><name>a</name></domain>', '<uuid> "" is not a UUID');
  refused('<domain><name>a</name><uuid>not&lt;a-uuid</uuid></domain>', '<uuid> "not<a-uuid" is not a UUID');
});

test('predefined entities, character references, comments, CDATA, processing instructions, U+FFFD round-trip', () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<!-- before --><domain a="&lt;&amp;&quot;&apos;&gt;" b="x&#10;y"><name>&lt;&amp;]]&gt;&#65;\uFFFD</name><![CDATA[<not markup> & ]]><?app data?><!-- after --></domain>`;
  const doc = parseXml(xml, 'x');
  assert.is(doc.documentElement?.getAttribute('a'), `<&"'>`);
  assert.is(doc.documentElement?.getAttribute('b'), 'x\ny');
  const again = serializeXml(doc);
  assert.is(serializeXml(parseXml(again, 'y')), again);
  assert.match(again, '<name>&lt;&amp;]]&gt;A\uFFFD</name>');
  assert.match(again, '<![CDATA[<not markup> & ]]>');
  assert.match(again, 'b="x&#10;y"');
});

test.run();
