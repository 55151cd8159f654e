/**
 * injectPorts on whole domain documents: the right `<nova:ports>` in nova's shape, and everything
 * else intact (the DOM outside `<nova:ports>`, compared node by node, before and after). Each
 * case is changed as `inject` and the hook change it (core/domain-change.ts: without a DOM where
 * the text is plain) and through xmldom's DOM, and the two must be the same document.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeChange } from '../../src/core/compare';
import { desiredPorts } from '../../src/core/desired';
import { parseDomain } from '../../src/core/domain';
import { readDomainToChange } from '../../src/core/domain-change';
import { injectPorts, type InjectResult } from '../../src/core/inject';
import { parseLeanXml } from '../../src/core/lean-xml';
import { parseNetworkInfo } from '../../src/core/network-info';
import { NOVA_NS } from '../../src/core/nova-namespace';
import { parseXml, serializeXml } from '../../src/core/xml-document';
import { devOf, domainXml, fixture, macOf, novaPortsXml, portId, vifJson } from '../support/builders';
import { outsidePorts } from '../support/canonical-dom';

const A = '567a4527-b0e4-4d0a-bcc2-71fda37897f7';
const B = 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead';
const TWO_PORTS = fixture('network_info/two-ports.json');
const TWO_PORTS_SHOWN = [
  [A, 'fixed 192.168.1.1 4', 'fixed fdf8:f53b:82e4::52 6', 'floating 11.22.33.44 4'],
  [B, 'fixed 10.0.0.1 4'],
];

interface Injected {
  readonly result: InjectResult;
  /** What the `inject` command prints: the new document, or the input as it came. */
  readonly out: string;
}

/** What `inject` prints, checked against the same change made to xmldom's DOM. */
function inject(xml: string, networkInfo: string | unknown[]): Injected {
  const vifs = parseNetworkInfo(typeof networkInfo === 'string' ? networkInfo : JSON.stringify(networkInfo), 'n.json');
  const { domain, text } = readDomainToChange(xml, 'd.xml');
  const result = injectPorts(domain, vifs);
  const dom = parseDomain(xml, 'd.xml');
  assert.equal(injectPorts(dom, vifs), result);
  if (result.kind !== 'changed') return { result, out: xml };
  const out = text();
  if (parseLeanXml(xml)) changedWithoutDom++;
  assert.is(reserialized(out), reserialized(serializeXml(dom.doc)), 'the same document as the DOM makes');
  return { result, out };
}

let changedWithoutDom = 0;

/** A document as xmldom writes it after reading it: quotes, entities and empty tags alike. */
const reserialized = (xml: string): string => serializeXml(parseXml(xml, 'reserialized'));

/** The ports as read back from XML, one array per port: id then "type address version". */
function portsOf(xml: string): string[][] | null {
  const ports = parseDomain(xml, 'out').nova?.ports;
  return ports === undefined || ports === null ? null : ports.map((p) => [p.id, ...p.ips.map((ip) => `${ip.type} ${ip.address} ${ip.version}`)]);
}

/** Everything outside `<nova:ports>` is the same DOM, and injecting again finds nothing to do. */
function assertIntactAndStable(before: string, after: string, networkInfo: string | unknown[]): void {
  assert.equal(outsidePorts(after), outsidePorts(before));
  const again = inject(after, networkInfo);
  assert.is(again.result.kind, 'in-sync');
  assert.is(again.out, after);
}

/** expected-two-ports.xml as it sits inside an instance element indented by `indent`. */
function expectedBlock(indent: string, prefix = 'nova'): string {
  return fixture('expected-two-ports.xml')
    .trimEnd()
    .replace(/ xmlns:nova="[^"]*"/, '')
    .replace(/nova:/g, prefix ? `${prefix}:` : '')
    .split('\n')
    .map((line) => indent + line)
    .join('\n');
}

test('pre-wallaby fixture (nova 1.0, no <nova:ports>): ports added last, in 1.0, in nova\'s shape', () => {
  const before = fixture('domains/pre-wallaby.xml');
  const { result, out } = inject(before, TWO_PORTS);
  assert.is(result.kind, 'changed');
  if (result.kind !== 'changed') return;
  assert.equal(result.changes.map(describeChange), [
    '+ <nova:ports> (absent)',
    `+ port ${A}: fixed 192.168.1.1 v4, fixed fdf8:f53b:82e4::52 v6, floating 11.22.33.44 v4`,
    `+ port ${B}: fixed 10.0.0.1 v4`,
  ]);
  assert.equal(portsOf(out), TWO_PORTS_SHOWN);
  assert.match(out, `<nova:root type="image" uuid="66e81ebe-9d4f-45ae-b79b-b3d9dc989b21"/>\n${expectedBlock('      ')}\n    </nova:instance>`);
  const ports = parseXml(out, 'o').getElementsByTagName('nova:ports')[0];
  assert.is(ports?.namespaceURI, NOVA_NS.v1_0);
  assert.is(ports?.parentNode?.lastChild?.previousSibling, ports);
  assertIntactAndStable(before, out, TWO_PORTS);
});

test('wallaby fixture: nova\'s fixed-only ports replaced; foreign metadata, comments and an upper-case MAC', () => {
  const before = fixture('domains/wallaby-nova-ports.xml');
  const { result, out } = inject(before, TWO_PORTS);
  assert.is(result.kind, 'changed');
  if (result.kind !== 'changed') return;
  assert.equal(result.changes.map(describeChange), [`~ port ${A}: +floating 11.22.33.44 v4`, `+ port ${B}: fixed 10.0.0.1 v4`]);
  assert.equal(portsOf(out), TWO_PORTS_SHOWN);
  assert.match(out, `<nova:root type="image" uuid="fe55c69a-8b2e-4bbc-811a-9ad2023a0426"/>\n${expectedBlock('      ')}\n    </nova:instance>\n    <acme:billing`);
  assert.match(out, '<!-- the first port, plugged by nova at boot -->');
  assertIntactAndStable(before, out, TWO_PORTS);
});

test('not-nova fixture: left alone', () => {
  const before = fixture('domains/not-nova.xml');
  const domain = parseDomain(before, 'd');
  const untouched = serializeXml(domain.doc);
  assert.equal(injectPorts(domain, parseNetworkInfo(TWO_PORTS, 'n')), { kind: 'not-nova' });
  assert.is(serializeXml(domain.doc), untouched);
});

test('in sync: nothing written, the ports reported', () => {
  const { out } = inject(fixture('domains/wallaby-nova-ports.xml'), TWO_PORTS);
  const domain = parseDomain(out, 'd');
  const result = injectPorts(domain, parseNetworkInfo(TWO_PORTS, 'n'));
  assert.is(result.kind, 'in-sync');
  assert.equal(
    result.kind === 'in-sync' && result.ports.map((p) => p.id),
    [A, B],
  );
  assert.is(serializeXml(domain.doc), serializeXml(parseXml(out, 'o')));
});

test('no ports: <nova:ports/> as nova writes it, and an empty element is in sync', () => {
  const before = domainXml();
  const { result, out } = inject(before, []);
  assert.is(result.kind, 'changed');
  assert.match(out, '<nova:root type="image" uuid="fe55c69a-8b2e-4bbc-811a-9ad2023a0426"/>\n      <nova:ports/>\n    </nova:instance>');
  assert.equal(portsOf(out), []);
  assertIntactAndStable(before, out, []);
  assert.is(inject(domainXml({ novaInner: '<nova:ports/>' }), []).result.kind, 'in-sync');
  assert.is(inject(domainXml({ novaInner: '<nova:ports>\n      </nova:ports>' }), []).result.kind, 'in-sync');
});

test('a port with no IP is <nova:port uuid="..."/>', () => {
  const before = domainXml({ interfaces: [{ mac: 'fa:16:3e:00:00:01', dev: 'tap3f1c9a52-11' }] });
  const { out } = inject(before, fixture('network_info/port-without-ip.json'));
  assert.match(out, '\n      <nova:ports>\n        <nova:port uuid="3f1c9a52-1111-4a6e-9d0b-0c0ffee00001"/>\n      </nova:ports>\n');
  assertIntactAndStable(before, out, fixture('network_info/port-without-ip.json'));
});

test('64 ports of 4 addresses each (the limits), every one written in cache order', () => {
  const ids = Array.from({ length: 64 }, (_, i) => portId(i));
  const cache = ids.map((id, i) => vifJson(id, macOf(i), [[{ address: `10.0.${i}.1`, floating: [`172.16.${i}.1`] }], [{ address: `FD00::${i.toString(16)}:1`, floating: [`2001:db8::${i.toString(16)}`] }]]));
  const before = domainXml({ interfaces: ids.map((id, i) => ({ mac: macOf(i), dev: devOf(id) })).reverse() });
  const { out } = inject(before, cache);
  const ports = portsOf(out) ?? [];
  assert.is(ports.length, 64);
  assert.equal(ports[10], [portId(10), 'fixed 10.0.10.1 4', 'fixed fd00::a:1 6', 'floating 172.16.10.1 4', 'floating 2001:db8::a 6']);
  assert.equal(
    ports.map((p) => p[0]),
    ids,
  );
  assertIntactAndStable(before, out, cache);
});

test('IPv6 before IPv4 when the cache says so; floating IPs of both versions after the fixed ones', () => {
  const cache = [vifJson(A, 'fa:16:3e:5b:1c:09', [[{ address: '2001:DB8:0:0::1', floating: ['2001:db8:ffff::7'] }], [{ address: '10.0.0.5', floating: ['11.22.33.44'] }]])];
  const before = domainXml({ interfaces: [{ mac: 'fa:16:3e:5b:1c:09' }] });
  const { out } = inject(before, cache);
  assert.equal(portsOf(out), [[A, 'fixed 2001:db8::1 6', 'fixed 10.0.0.5 4', 'floating 2001:db8:ffff::7 6', 'floating 11.22.33.44 4']]);
  assert.match(out, '<nova:ip type="fixed" address="2001:db8::1" ipVersion="6"/>');
  assertIntactAndStable(before, out, cache);
});

test('both namespaces: the 1.1 element gets the ports, the 1.0 element stays byte for byte', () => {
  const v10 = `<old:instance xmlns:old="${NOVA_NS.v1_0}">\n      <old:name>web-1</old:name>\n      ${novaPortsXml([[B, ['fixed', '10.9.9.9', '4']]], 'old')}\n    </old:instance>`;
  for (const before of [
    domainXml({ otherMetadata: v10, interfaces: [{ mac: 'fa:16:3e:5b:1c:09' }, { mac: 'fa:16:3e:c4:7e:21' }] }),
    domainXml({ nova: false, interfaces: [{ mac: 'fa:16:3e:5b:1c:09' }, { mac: 'fa:16:3e:c4:7e:21' }] }).replace(
      '  </metadata>',
      `    ${v10}\n    <nova:instance xmlns:nova="${NOVA_NS.v1_1}"><nova:name>db-1</nova:name></nova:instance>\n  </metadata>`,
    ),
  ]) {
    const { out } = inject(before, TWO_PORTS);
    assert.equal(portsOf(out), TWO_PORTS_SHOWN);
    assert.ok(out.includes(v10), 'the 1.0 element is unchanged');
    assertIntactAndStable(before, out, TWO_PORTS);
  }
});

test('interfaces missing from the cache are ignored; cached ports missing from the domain are dropped', () => {
  const before = domainXml({
    interfaces: [{ mac: '52:54:00:00:00:99', dev: 'vnet0' }, { mac: 'FA:16:3E:C4:7E:21', dev: 'tapa3ca97e2-0c' }, {}],
    novaInner: novaPortsXml([[A, ['fixed', '192.168.1.1', '4']], [B, ['fixed', '10.0.0.1', '4']]]),
  });
  const { result, out } = inject(before, TWO_PORTS);
  assert.equal(result.kind === 'changed' && result.changes.map(describeChange), [`- port ${A}: fixed 192.168.1.1 v4`]);
  assert.equal(portsOf(out), [[B, 'fixed 10.0.0.1 4']]);
  assertIntactAndStable(before, out, TWO_PORTS);
});

test('a port the cache lacks stays, after the cached ones, while its interface is there; then goes', () => {
  const kept = portId(0x77);
  const listed = novaPortsXml([[kept, ['fixed', '10.7.7.7', '4'], ['floating', '1.2.3.4', '4']], [A, ['fixed', '192.168.1.1', '4']]]);
  const withIface = domainXml({
    novaInner: listed,
    interfaces: [{ mac: 'fa:16:3e:99:99:99', dev: devOf(kept, 'vhu') }, { mac: 'fa:16:3e:5b:1c:09', dev: 'tap567a4527-b0' }],
  });
  const { out } = inject(withIface, TWO_PORTS);
  assert.equal(portsOf(out), [TWO_PORTS_SHOWN[0], [kept, 'fixed 10.7.7.7 4', 'floating 1.2.3.4 4']]);
  assertIntactAndStable(withIface, out, TWO_PORTS);
  const gone = domainXml({ novaInner: listed, interfaces: [{ mac: 'fa:16:3e:5b:1c:09', dev: 'tap567a4527-b0' }] });
  assert.equal(portsOf(inject(gone, TWO_PORTS).out), [TWO_PORTS_SHOWN[0]]);
});

test('<domstatus>: the domain inside is updated, the status wrapper kept', () => {
  const inner = fixture('domains/wallaby-nova-ports.xml').trimEnd();
  const before = `<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE.\n-->\n<domstatus state='running' reason='booted' pid='4242'>\n  <taint flag='high-privileges'/>\n  ${inner}\n  <qemuCaps><flag name='kvm'/></qemuCaps>\n</domstatus>\n`;
  const { result, out } = inject(before, TWO_PORTS);
  assert.is(result.kind, 'changed');
  assert.equal(portsOf(out), TWO_PORTS_SHOWN);
  // Libvirt's plain XML: the wrapper as it came, to the byte.
  assert.ok(out.startsWith(before.slice(0, before.indexOf('<domain '))), out.slice(0, 300));
  assertIntactAndStable(before, out, TWO_PORTS);
});

test('prefixes: another prefix or the default namespace is kept, and no namespace declaration is added', () => {
  const other = `<x:instance xmlns:x="${NOVA_NS.v1_1}">\n      <x:name>db-1</x:name>\n    </x:instance>`;
  const byDefault = `<instance xmlns="${NOVA_NS.v1_1}">\n      <name>db-1</name>\n    </instance>`;
  const interfaces = [{ mac: 'fa:16:3e:5b:1c:09' }, { mac: 'fa:16:3e:c4:7e:21' }];
  for (const [instance, prefix] of [
    [other, 'x'],
    [byDefault, ''],
  ] as const) {
    const before = domainXml({ nova: false, otherMetadata: instance, interfaces });
    const { out } = inject(before, TWO_PORTS);
    assert.equal(portsOf(out), TWO_PORTS_SHOWN);
    assert.match(out, `${expectedBlock('      ', prefix)}\n    </${prefix ? `${prefix}:` : ''}instance>`);
    assert.is(out.split('xmlns').length, before.split('xmlns').length);
    assertIntactAndStable(before, out, TWO_PORTS);
  }
});

test('layouts: ports in the middle move last; a one-line or an empty instance element', () => {
  const interfaces = [{ mac: 'fa:16:3e:5b:1c:09' }, { mac: 'fa:16:3e:c4:7e:21' }];
  const middle = domainXml({ interfaces }).replace(
    '      <nova:owner>',
    `      <!-- stale -->\n      ${novaPortsXml([[B]])}\n      <!-- after -->\n      <nova:owner>`,
  );
  const oneLine = domainXml({ nova: false, interfaces, otherMetadata: `<nova:instance xmlns:nova="${NOVA_NS.v1_1}"><nova:name>a</nova:name><nova:ports><nova:port uuid="${B}"/></nova:ports><!--c--></nova:instance>` });
  const empty = domainXml({ nova: false, interfaces, otherMetadata: `<nova:instance xmlns:nova="${NOVA_NS.v1_1}"/>` });
  for (const before of [middle, oneLine, empty]) {
    const { out } = inject(before, TWO_PORTS);
    assert.equal(portsOf(out), TWO_PORTS_SHOWN);
    assertIntactAndStable(before, out, TWO_PORTS);
  }
  assert.match(inject(oneLine, TWO_PORTS).out, /<nova:name>a<\/nova:name><!--c--><nova:ports>\s*<nova:port uuid="567a4527-[^]*<\/nova:ports><\/nova:instance>/);
  assert.match(inject(middle, TWO_PORTS).out, '<!-- stale -->\n      <!-- after -->\n      <nova:owner>');
});

test('hostile strings elsewhere in the document survive exactly', () => {
  const nasty = `q"uo'te &lt;tag&gt; &amp;amp; ]]&gt; tab\tcr&#13;lf&#10;nel\u0085ls\u2028 \u{1F600} \uFFFD`;
  const before = domainXml({
    interfaces: [{ mac: 'fa:16:3e:5b:1c:09' }],
    otherMetadata: `<acme:x xmlns:acme="urn:acme" note="${nasty.replace(/"/g, '&quot;')}"><![CDATA[<nova:ports/> & ]]]]><![CDATA[>]]><!-- <nova:ports> & --></acme:x>`,
  })
    .replace('<nova:name>db-1</nova:name>', `<nova:name>${nasty}</nova:name><!-- ${nasty.replace(/&/g, '')} -->`)
    .replace('<nova:root ', `<?acme ${nasty.replace(/&/g, '')}?><nova:root `)
    .replace('<name>instance-0000002b</name>', '<name>instance-0000002b</name>\n  <description>line1&#13;\nline2\u0085 &lt;/description&gt;</description>');
  const { out } = inject(before, TWO_PORTS);
  assert.equal(portsOf(out), [[A, 'fixed 192.168.1.1 4', 'fixed fdf8:f53b:82e4::52 6', 'floating 11.22.33.44 4']]);
  assert.is(parseDomain(out, 'o').nova?.displayName, `q"uo'te <tag> &amp; ]]> tab\tcr\rlf\nnel\u0085ls\u2028 \u{1F600} \uFFFD`);
  assertIntactAndStable(before, out, TWO_PORTS);
});

test('hostile ports already in the metadata (non-UUID ids, bad addresses, markup) are replaced', () => {
  const hostile = `<nova:ports><nova:port uuid="x&quot;&lt;y&amp;]]&gt;"><nova:ip type="fixed" address="&lt;script&gt;" ipVersion="4"/></nova:port><nova:port uuid="${A}"><nova:ip type="fixed" address="10.0.0.1 v4|fixed 10.0.0.2" ipVersion="4"/></nova:port></nova:ports>`;
  const cache = [vifJson(A, 'fa:16:3e:5b:1c:09', [[{ address: '10.0.0.1' }, { address: '10.0.0.2' }]])];
  const before = domainXml({ novaInner: hostile, interfaces: [{ mac: 'fa:16:3e:5b:1c:09', dev: 'tapx&quot;&lt;y&amp;]]&gt;' }] });
  const { result, out } = inject(before, cache);
  assert.is(result.kind, 'changed');
  assert.equal(portsOf(out), [[A, 'fixed 10.0.0.1 4', 'fixed 10.0.0.2 4']]);
  assert.not.match(out, 'script');
  assertIntactAndStable(before, out, cache);
});

test('a large document (4 MiB of other metadata) is handled', () => {
  const big = `<acme:blob xmlns:acme="urn:acme">${'0123456789abcdef'.repeat(256 * 1024)}</acme:blob>`;
  const before = domainXml({ otherMetadata: big, interfaces: [{ mac: 'fa:16:3e:5b:1c:09' }, { mac: 'fa:16:3e:c4:7e:21' }] });
  const { out } = inject(before, TWO_PORTS);
  assert.equal(portsOf(out), TWO_PORTS_SHOWN);
  assert.ok(out.includes(big));
});

test('the written ports are exactly desiredPorts', () => {
  const before = fixture('domains/wallaby-nova-ports.xml');
  const domain = parseDomain(before, 'd');
  const vifs = parseNetworkInfo(TWO_PORTS, 'n');
  const expected = desiredPorts(vifs, domain.interfaces, domain.nova?.ports ?? null);
  const result = injectPorts(domain, vifs);
  assert.equal(result.kind === 'changed' && result.ports, expected);
});

test('the cases above were changed without a DOM where their text is plain', () => {
  assert.ok(changedWithoutDom >= 10, `${changedWithoutDom} changed without a DOM`);
});

test.run();
