/** portsEqual, diffPorts, describeChange: when actual ports are "the same" as desired, and how they differ. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeChange, diffPorts, portsEqual } from '../../src/core/compare';
import { parseDomain } from '../../src/core/domain';
import type { Port } from '../../src/core/model';
import { parseNetworkInfo } from '../../src/core/network-info';
import { NOVA_NS } from '../../src/core/nova-namespace';
import type { ReadPort } from '../../src/core/ports-xml';
import { domainXml, vifJson } from '../support/builders';

const A = '567a4527-b0e4-4d0a-bcc2-71fda37897f7';
const B = 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead';

/** The desired ports for A (10.0.0.1, fd00::52, floating 11.22.33.44) and B (no IP). */
const desired: Port[] = parseNetworkInfo(
  JSON.stringify([vifJson(A, 'fa:16:3e:00:00:01', [[{ address: '10.0.0.1', floating: ['11.22.33.44'] }], [{ address: 'fd00::52' }]]), vifJson(B, 'fa:16:3e:00:00:02')]),
  'c',
).map(({ id, ips }) => ({ id, ips }));

/** The ports a nova element carries, given the XML of the whole `<instance>` element. */
function actual(instance: string): ReadPort[] | null {
  const xml = domainXml({ nova: false, otherMetadata: instance });
  const nova = parseDomain(xml, 'd').nova;
  if (!nova) throw new Error('no nova element');
  return nova.ports;
}

const ns = NOVA_NS.v1_1;
const equalSpellings: Record<string, string> = {
  'nova: prefix, double quotes, indented': `<nova:instance xmlns:nova="${ns}">
      <nova:ports>
        <nova:port uuid="${A}">
          <nova:ip type="fixed" address="10.0.0.1" ipVersion="4"/>
          <nova:ip type="fixed" address="fd00::52" ipVersion="6"/>
          <nova:ip type="floating" address="11.22.33.44" ipVersion="4"/>
        </nova:port>
        <nova:port uuid="${B}"/>
      </nova:ports>
    </nova:instance>`,
  'other prefix, single quotes, one line, attributes reordered': `<x:instance xmlns:x='${ns}'><x:ports><x:port uuid='${A}'><x:ip address='10.0.0.1' ipVersion='4' type='fixed'/><x:ip ipVersion='6' type='fixed' address='fd00::52'></x:ip><x:ip type='floating' ipVersion='4' address='11.22.33.44'/></x:port><x:port uuid='${B}'></x:port></x:ports></x:instance>`,
  'default namespace, odd whitespace': `<instance xmlns="${ns}"><ports>

    <port   uuid = "${A}" >
<ip type="fixed"  address="10.0.0.1"   ipVersion="4" /><ip
   type="fixed" address="fd00::52" ipVersion="6"/>    <ip type="floating" address="11.22.33.44" ipVersion="4"/></port>
    <port uuid="${B}">   </port></ports></instance>`,
  'non-canonical address and upper-case uuid, comments between': `<nova:instance xmlns:nova="${ns}"><nova:ports><!-- c --><nova:port uuid="${A.toUpperCase()}"><nova:ip type="fixed" address="10.0.0.1" ipVersion="4"/><!-- d --><nova:ip type="fixed" address="FD00:0000::0052" ipVersion="6"/><nova:ip type="floating" address="11.22.33.44" ipVersion="4"/></nova:port><nova:port uuid="${B}"/></nova:ports></nova:instance>`,
  'prefix bound on an ancestor, foreign children ignored': `<n:instance xmlns:n="${ns}" xmlns:o="urn:other"><n:ports><o:note/><n:port uuid="${A}" o:x="1"><n:ip type="fixed" address="10.0.0.1" ipVersion="4"/><o:ip type="fixed" address="9.9.9.9" ipVersion="4"/><n:ip type="fixed" address="fd00::52" ipVersion="6"/><n:ip type="floating" address="11.22.33.44" ipVersion="4"/></n:port><o:port uuid="${A}"/><n:port uuid="${B}"/></n:ports></n:instance>`,
};

for (const [label, xml] of Object.entries(equalSpellings)) {
  test(`equal: ${label}`, () => {
    const ports = actual(xml);
    assert.ok(portsEqual(ports, desired));
    assert.ok(portsEqual(desired, ports));
    assert.equal(diffPorts(ports, desired), []);
  });
}

const unequal: Record<string, [string, string[]]> = {
  'ports in another order': [
    `<nova:port uuid="${B}"/><nova:port uuid="${A}"><nova:ip type="fixed" address="10.0.0.1" ipVersion="4"/><nova:ip type="fixed" address="fd00::52" ipVersion="6"/><nova:ip type="floating" address="11.22.33.44" ipVersion="4"/></nova:port>`,
    ['~ order of ports'],
  ],
  'addresses in another order': [
    `<nova:port uuid="${A}"><nova:ip type="fixed" address="fd00::52" ipVersion="6"/><nova:ip type="fixed" address="10.0.0.1" ipVersion="4"/><nova:ip type="floating" address="11.22.33.44" ipVersion="4"/></nova:port><nova:port uuid="${B}"/>`,
    [`~ port ${A}: order of addresses`],
  ],
  'a floating IP missing (as nova writes it)': [
    `<nova:port uuid="${A}"><nova:ip type="fixed" address="10.0.0.1" ipVersion="4"/><nova:ip type="fixed" address="fd00::52" ipVersion="6"/></nova:port><nova:port uuid="${B}"/>`,
    [`~ port ${A}: +floating 11.22.33.44 v4`],
  ],
  'a type that differs': [
    `<nova:port uuid="${A}"><nova:ip type="fixed" address="10.0.0.1" ipVersion="4"/><nova:ip type="fixed" address="fd00::52" ipVersion="6"/><nova:ip type="fixed" address="11.22.33.44" ipVersion="4"/></nova:port><nova:port uuid="${B}"/>`,
    [`~ port ${A}: +floating 11.22.33.44 v4, -fixed 11.22.33.44 v4`],
  ],
  'a version written differently': [
    `<nova:port uuid="${A}"><nova:ip type="fixed" address="10.0.0.1" ipVersion="04"/><nova:ip type="fixed" address="fd00::52" ipVersion="6"/><nova:ip type="floating" address="11.22.33.44" ipVersion="4"/></nova:port><nova:port uuid="${B}"/>`,
    [`~ port ${A}: +fixed 10.0.0.1 v4, -fixed 10.0.0.1 v04`],
  ],
  'a type in upper case': [
    `<nova:port uuid="${A}"><nova:ip type="FIXED" address="10.0.0.1" ipVersion="4"/><nova:ip type="fixed" address="fd00::52" ipVersion="6"/><nova:ip type="floating" address="11.22.33.44" ipVersion="4"/></nova:port><nova:port uuid="${B}"/>`,
    [`~ port ${A}: +fixed 10.0.0.1 v4, -FIXED 10.0.0.1 v4`],
  ],
  'an extra port, a missing port': [
    `<nova:port uuid="${A}"><nova:ip type="fixed" address="10.0.0.1" ipVersion="4"/><nova:ip type="fixed" address="fd00::52" ipVersion="6"/><nova:ip type="floating" address="11.22.33.44" ipVersion="4"/></nova:port><nova:port uuid="not-a-uuid"><nova:ip type="fixed" address="1.1.1.1" ipVersion="4"/></nova:port>`,
    [`+ port ${B}`, '- port not-a-uuid: fixed 1.1.1.1 v4'],
  ],
  // an address read from XML that does not parse must not pose as two addresses
  'an address that embeds a second one': [
    `<nova:port uuid="${A}"><nova:ip type="fixed" address="10.0.0.1 v4|fixed fd00::52" ipVersion="6"/><nova:ip type="floating" address="11.22.33.44" ipVersion="4"/></nova:port><nova:port uuid="${B}"/>`,
    [`~ port ${A}: +fixed 10.0.0.1 v4, +fixed fd00::52 v6, -fixed 10.0.0.1 v4|fixed fd00::52 v6`],
  ],
  'a port id that embeds its addresses': [
    `<nova:port uuid="${A}|fixed 10.0.0.1 v4|fixed fd00::52 v6|floating 11.22.33.44 v4"/><nova:port uuid="${B}"/>`,
    [`+ port ${A}: fixed 10.0.0.1 v4, fixed fd00::52 v6, floating 11.22.33.44 v4`, `- port ${A}|fixed 10.0.0.1 v4|fixed fd00::52 v6|floating 11.22.33.44 v4`],
  ],
};

for (const [label, [portsXml, changes]] of Object.entries(unequal)) {
  test(`unequal: ${label}`, () => {
    const ports = actual(`<nova:instance xmlns:nova="${ns}"><nova:ports>${portsXml}</nova:ports></nova:instance>`);
    assert.not.ok(portsEqual(ports, desired));
    assert.equal(diffPorts(ports, desired).map(describeChange), changes);
  });
}

test('an absent <nova:ports> is not an empty one', () => {
  const absent = actual(`<nova:instance xmlns:nova="${ns}"><nova:name>x</nova:name></nova:instance>`);
  const empty = actual(`<nova:instance xmlns:nova="${ns}"><nova:ports/></nova:instance>`);
  const emptyLong = actual(`<nova:instance xmlns:nova="${ns}"><nova:ports>
  </nova:ports></nova:instance>`);
  assert.is(absent, null);
  assert.equal(empty, []);
  assert.equal(emptyLong, []);
  assert.ok(portsEqual(null, null));
  assert.ok(portsEqual(empty, []));
  assert.ok(portsEqual(empty, emptyLong));
  assert.not.ok(portsEqual(absent, []));
  assert.not.ok(portsEqual([], absent));
  assert.equal(diffPorts(absent, []).map(describeChange), ['+ <nova:ports> (absent)']);
  assert.equal(diffPorts(absent, desired).map(describeChange), [
    '+ <nova:ports> (absent)',
    `+ port ${A}: fixed 10.0.0.1 v4, fixed fd00::52 v6, floating 11.22.33.44 v4`,
    `+ port ${B}`,
  ]);
});

test('<nova:ports> of the other nova namespace, or of another namespace, is not this element\'s', () => {
  assert.is(actual(`<nova:instance xmlns:nova="${ns}"><old:ports xmlns:old="${NOVA_NS.v1_0}"/><ports/></nova:instance>`), null);
});

test.run();
