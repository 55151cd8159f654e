/**
 * A domain changed without a DOM (core/domain-change.ts over core/lean-xml.ts) is the document
 * xmldom's DOM makes of the same change, and the text it came as everywhere else: on generated
 * nova elements in every layout the ports code meets (prefixes, namespaces, indentation, ports
 * first, last or in between, empty, one line, inside libvirt's status file), and on the lean
 * document's own changing methods.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Element } from '@xmldom/xmldom';
import { parseDomain } from '../../src/core/domain';
import { readDomainToChange } from '../../src/core/domain-change';
import { injectPorts } from '../../src/core/inject';
import { parseLeanXml } from '../../src/core/lean-xml';
import { parseNetworkInfo } from '../../src/core/network-info';
import { NOVA_NS } from '../../src/core/nova-namespace';
import { childElements, parseXml, serializeXml } from '../../src/core/xml-document';
import { DOMAIN_UUID, fixture, interfaceXml, vifJson } from '../support/builders';

const A = '567a4527-b0e4-4d0a-bcc2-71fda37897f7';
const B = 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead';
const MACS = ['fa:16:3e:5b:1c:09', 'fa:16:3e:c4:7e:21'];
const reserialized = (xml: string): string => serializeXml(parseXml(xml, 'reserialized'));

/** By name, so that a counterexample stays short. */
const NETWORK_INFOS: Readonly<Record<string, string>> = {
  'two ports': fixture('network_info/two-ports.json'),
  none: '[]',
  'B alone, with floating IPs of both versions': JSON.stringify([vifJson(B, MACS[1] ?? '', [[{ address: '10.0.0.9', floating: ['203.0.113.7', '2001:db8::7'] }, { address: 'fd00::9' }]])]),
  'A without an IP, B with one': JSON.stringify([vifJson(A, MACS[0] ?? ''), vifJson(B, MACS[1] ?? '', [[{ address: '10.0.0.1' }]])]),
};

/** An element of nova's in its own layout: `p` the prefix with its colon, or '' in the default namespace. */
const child = (p: string) =>
  fc.constantFrom(
    `<${p}name>web &amp; db &#233;</${p}name>`,
    `<${p}package version='26.2.2'/>`,
    `<${p}owner><${p}user uuid="3472c2a6-de91-4fb5-b618-42bc781ef670">bob</${p}user></${p}owner>`,
    `<${p}ports/>`,
    `<${p}ports><${p}port uuid='${B}'><${p}ip type='fixed' address='10.0.0.1' ipVersion='4'/></${p}port></${p}ports>`,
    `<${p}ports>\n  <${p}port uuid="${A}"/>\n</${p}ports>`,
    `<other xmlns='urn:x' a="&quot;'">t &gt; u</other>`,
    '<!-- a note -->',
    '<!---->',
  );

const layout = fc
  .record({
    prefix: fc.constantFrom('nova', 'x', ''),
    namespace: fc.constantFrom(NOVA_NS.v1_1, NOVA_NS.v1_0),
    indent: fc.constantFrom('', '  ', '    ', '\t'),
    empty: fc.boolean(),
    status: fc.boolean(),
    trailer: fc.constantFrom('', '\n', '\n\n'),
    networkInfo: fc.constantFrom(...Object.keys(NETWORK_INFOS)),
  })
  .chain((l) => fc.record({ l: fc.constant(l), children: fc.array(child(l.prefix ? `${l.prefix}:` : ''), { maxLength: 5 }) }))
  .map(({ l, children }) => {
    const p = l.prefix ? `${l.prefix}:` : '';
    const declaration = l.prefix ? `xmlns:${l.prefix}="${l.namespace}"` : `xmlns='${l.namespace}'`;
    const nl = l.indent ? '\n' : '';
    const at = (depth: number) => nl + l.indent.repeat(depth);
    const instance =
      l.empty && children.length === 0
        ? `<${p}instance ${declaration}/>`
        : `<${p}instance ${declaration}>${children.map((c) => at(3) + c).join('')}${at(2)}</${p}instance>`;
    const domain = [
      "<domain type='kvm'>",
      `${at(1)}<name>instance-0000002b</name>`,
      `${at(1)}<uuid>${DOMAIN_UUID}</uuid>`,
      `${at(1)}<metadata>${at(2)}${instance}${at(1)}</metadata>`,
      `${at(1)}<devices>${MACS.map((mac) => interfaceXml({ mac })).join('')}${at(1)}</devices>`,
      `${nl}</domain>`,
    ].join('');
    const xml = l.status ? `<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE.\n-->\n<domstatus state='running'>\n  ${domain}\n</domstatus>${l.trailer}` : `${domain}${l.trailer}`;
    return { xml, networkInfo: l.networkInfo, instanceTag: `<${p}instance`, instanceEnd: l.empty && children.length === 0 ? '/>' : `</${p}instance>` };
  });

test('generated nova elements: changed without a DOM, the document the DOM makes, the rest as it came', () => {
  let changed = 0;
  fc.assert(
    fc.property(layout, ({ xml, networkInfo, instanceTag, instanceEnd }) => {
      assert.ok(parseLeanXml(xml), `plain XML the lean reader gave up on: ${xml}`);
      const vifs = parseNetworkInfo(NETWORK_INFOS[networkInfo] ?? '', networkInfo);
      const { domain, text } = readDomainToChange(xml, 'd.xml');
      const dom = parseDomain(xml, 'd.xml');
      const result = injectPorts(domain, vifs);
      assert.equal(injectPorts(dom, vifs), result);
      if (result.kind !== 'changed') return;
      changed++;
      const out = text();
      assert.is(reserialized(out), reserialized(serializeXml(dom.doc)), xml);
      // Before the instance element's start and after its end, the text is the input's.
      const start = xml.indexOf(instanceTag);
      const end = xml.indexOf(instanceEnd, start) + instanceEnd.length;
      assert.is(out.slice(0, start), xml.slice(0, start));
      const tail = `${xml.slice(end).trimEnd()}\n`;
      assert.ok(out.endsWith(tail), `the rest as it came: ${JSON.stringify(out.slice(-200))}`);
      // Changed again: nothing left to do.
      const again = readDomainToChange(out, 'again');
      assert.is(injectPorts(again.domain, vifs).kind, 'in-sync', out);
    }),
    { numRuns: 400 },
  );
  assert.ok(changed > 200, `only ${changed} generated domains changed`);
});

test('unchanged, the text comes back byte for byte; printed, from its first markup to its last and one line feed', () => {
  const xml = fixture('domains/pre-wallaby.xml');
  const lean = parseLeanXml(xml);
  assert.ok(lean);
  assert.is(lean.serialize(), xml);
  const body = xml.trim();
  for (const around of [body, `\n \t${body}\n\n`, `${body} `]) assert.is(readDomainToChange(around, 'x').text(), `${body}\n`, JSON.stringify(around.slice(0, 3)));
  // The DOM's alike.
  const declared = `<?xml version="1.0"?>\n${body}\n\n`;
  assert.not.ok(parseLeanXml(declared));
  assert.match(readDomainToChange(declared, 'x').text(), /^<\?xml version="1.0"\?>\n<domain [^]*<\/domain>\n$/);
});

test('what the DOM methods change: only that is written anew', () => {
  const xml = `<a xmlns:n='urn:n'>\n  <b  x='1'>t &amp; u</b>\n  <n:c/>\n  <d>&#233;</d>\n</a>\n`;
  const lean = parseLeanXml(xml);
  assert.ok(lean);
  const doc = lean.document;
  const a = doc.documentElement as Element;
  const [b, c, d] = childElements(a);
  assert.ok(b && c && d);
  // A made element in the parent's prefix, inside an element read as `<n:c/>`.
  const made = doc.createElementNS('urn:n', 'n:e');
  made.setAttribute('v', `<"&'\t>`);
  c.appendChild(made);
  c.appendChild(doc.createTextNode('x < y & z'));
  a.removeChild(d);
  assert.is(lean.serialize(), `<a xmlns:n='urn:n'>\n  <b  x='1'>t &amp; u</b>\n  <n:c><n:e v="&lt;&quot;&amp;'&#9;&gt;"/>x &lt; y &amp; z</n:c>\n  \n</a>\n`);
  // Read back by xmldom: the made element in its namespace, its value and text as they were set.
  const back = parseXml(lean.serialize(), 'back').getElementsByTagName('n:e')[0];
  assert.equal([back?.namespaceURI, back?.getAttribute('v'), back?.nextSibling?.nodeValue], ['urn:n', `<"&'\t>`, 'x < y & z']);
  // An attribute set on an element read with both tags: its start tag written anew, its text kept.
  b.setAttribute('y', '2');
  assert.match(lean.serialize(), `<b x="1" y="2">t &amp; u</b>`);
  // insertBefore a sibling, and previousSibling after it.
  const first = doc.createElementNS(null, 'f');
  a.insertBefore(first, b);
  assert.is(first.nextSibling, b);
  assert.is(b.previousSibling, first);
  assert.match(lean.serialize(), /^<a xmlns:n='urn:n'>\n {2}<f\/><b x="1" y="2">/);
  // Moved within its parent, and before itself (where it is already), as the DOM does.
  a.insertBefore(b, first);
  a.insertBefore(b, b);
  assert.equal([b.nextSibling, first.previousSibling], [first, b]);
  assert.match(lean.serialize(), /^<a xmlns:n='urn:n'>\n {2}<b x="1" y="2">t &amp; u<\/b><f\/>\n {2}<n:c>/);
});

test('hostile depth: elements nested 50,000 deep beside the ports and inside a name are read, changed and printed', () => {
  const deep = (n: number, inner: string) => `${'<x:d>'.repeat(n)}${inner}${'</x:d>'.repeat(n)}`;
  const xml = fixture('domains/pre-wallaby.xml')
    .replace('<nova:name>', `<nova:extra xmlns:x="urn:x">${deep(50_000, 'bottom')}</nova:extra>\n      <nova:name xmlns:x="urn:x">${deep(50_000, '')}`);
  const { domain, text } = readDomainToChange(xml, 'deep.xml');
  assert.ok(parseLeanXml(xml), 'read without a DOM');
  // The name's text under 50,000 empty elements: read without recursing.
  assert.is(domain.nova?.displayName, 'web-1');
  assert.is(injectPorts(domain, parseNetworkInfo(NETWORK_INFOS['two ports'] ?? '', 'two ports')).kind, 'changed');
  const out = text();
  assert.ok(out.includes(`${deep(50_000, 'bottom')}</nova:extra>`), 'the deep element copied as it came');
  assert.match(out, '<nova:ports>');
});

test('a made element its prefix does not name where it stands is refused, never written in another namespace', () => {
  for (const [ns, name] of [
    ['urn:other', 'n:e'],
    ['urn:n', 'e'],
    ['urn:n', 'm:e'],
  ] as const) {
    const lean = parseLeanXml(`<a xmlns:n='urn:n'><n:c/></a>`);
    assert.ok(lean);
    (lean.document.documentElement as Element).appendChild(lean.document.createElementNS(ns, name));
    assert.throws(() => lean.serialize(), /lean XML: <.*> made in/, `${ns} ${name}`);
  }
  const lean = parseLeanXml(`<a/>`);
  assert.ok(lean);
  const el = lean.document.createElementNS(null, 'b');
  assert.throws(() => {
    el.setAttribute('xmlns', 'urn:x');
  }, /not a plain attribute name/);
  assert.throws(() => {
    el.setAttribute('n:x', 'v');
  }, /not a plain attribute name/);
  assert.throws(() => lean.document.createElementNS(null, 'b c'), /not a name/);
});

test.run();
