/** parseDomain: identity, interfaces and nova's element, from `<domain>` and from `<domstatus>`. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDomain } from '../../src/core/domain';
import { NOVA_NS } from '../../src/core/nova-namespace';
import { DOMAIN_UUID, domainXml, fixture, novaPortsXml } from '../support/builders';

const A = '567a4527-b0e4-4d0a-bcc2-71fda37897f7';

test('wallaby fixture: name, uuid, interfaces with lower-case MACs, nova 1.1 element and its ports', () => {
  const d = parseDomain(fixture('domains/wallaby-nova-ports.xml'), 'w');
  assert.is(d.name, 'instance-0000002b');
  assert.is(d.uuid, '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5');
  assert.equal(d.interfaces, [
    { mac: 'fa:16:3e:5b:1c:09', dev: 'tap567a4527-b0' },
    { mac: 'fa:16:3e:c4:7e:21', dev: 'tapa3ca97e2-0c' },
  ]);
  assert.is(d.nova?.namespace, NOVA_NS.v1_1);
  assert.is(d.nova?.displayName, 'db-1');
  assert.is(d.nova?.projectId, 'f241e906-010e-4917-ae81-53f4fb8aa021');
  assert.equal(d.nova?.ports, [
    {
      id: A,
      ips: [
        { type: 'fixed', address: '192.168.1.1', version: '4' },
        { type: 'fixed', address: 'fdf8:f53b:82e4::52', version: '6' },
      ],
    },
  ]);
});

test('pre-wallaby fixture: nova 1.0 element without <nova:ports>', () => {
  const d = parseDomain(fixture('domains/pre-wallaby.xml'), 'p');
  assert.is(d.nova?.namespace, NOVA_NS.v1_0);
  assert.is(d.nova?.displayName, 'web-1');
  assert.is(d.nova?.ports, null);
  assert.is(d.interfaces.length, 2);
});

test('not-nova fixture: no nova element', () => {
  const d = parseDomain(fixture('domains/not-nova.xml'), 'n');
  assert.is(d.name, 'build-runner');
  assert.is(d.nova, undefined);
  assert.equal(d.interfaces, [{ mac: '52:54:00:12:34:56', dev: undefined }]);
});

test('<domstatus> as libvirt keeps running guests: the <domain> inside it', () => {
  const inner = fixture('domains/wallaby-nova-ports.xml').replace("<domain type='kvm'>", "<domain type='kvm' id='7'>");
  const status = `<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE.\n-->\n<domstatus state='running' reason='booted' pid='4242'>\n  <taint flag='high-privileges'/>\n  <monitor path='/var/lib/libvirt/qemu/domain-7/monitor.sock' type='unix'/>\n  ${inner}  <qemuCaps><flag name='kvm'/></qemuCaps>\n</domstatus>\n`;
  const d = parseDomain(status, 's');
  assert.is(d.element.parentNode?.nodeName, 'domstatus');
  assert.is(d.name, 'instance-0000002b');
  assert.is(d.nova?.namespace, NOVA_NS.v1_1);
  assert.is(d.nova?.ports?.length, 1);
});

test('the nova element is found by namespace URI, never by prefix', () => {
  const other = `<anything:instance xmlns:anything="${NOVA_NS.v1_1}"><anything:name>n</anything:name></anything:instance>`;
  assert.is(parseDomain(domainXml({ nova: false, otherMetadata: other }), 'd').nova?.displayName, 'n');
  const byDefault = `<instance xmlns="${NOVA_NS.v1_0}"><name>m</name></instance>`;
  assert.is(parseDomain(domainXml({ nova: false, otherMetadata: byDefault }), 'd').nova?.displayName, 'm');
  const impostor = '<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.2"><nova:name>x</nova:name></nova:instance>';
  assert.is(parseDomain(domainXml({ nova: false, otherMetadata: impostor }), 'd').nova, undefined);
  const unqualified = '<instance><name>x</name></instance>';
  assert.is(parseDomain(domainXml({ nova: false, otherMetadata: unqualified }), 'd').nova, undefined);
});

test('a nova element outside <metadata>, or nested deeper, is not the instance', () => {
  const nested = `<wrap><nova:instance xmlns:nova="${NOVA_NS.v1_1}"/></wrap>`;
  assert.is(parseDomain(domainXml({ nova: false, otherMetadata: nested }), 'd').nova, undefined);
  const outside = domainXml({ nova: false }).replace('<devices>', `<nova:instance xmlns:nova="${NOVA_NS.v1_1}"/><devices>`);
  assert.is(parseDomain(outside, 'd').nova, undefined);
});

test('both namespaces present: 1.1 wins, in either order', () => {
  const v10 = `<old:instance xmlns:old="${NOVA_NS.v1_0}"><old:name>old</old:name>${novaPortsXml([], 'old')}</old:instance>`;
  const after = parseDomain(domainXml({ otherMetadata: v10 }), 'd');
  assert.is(after.nova?.namespace, NOVA_NS.v1_1);
  assert.is(after.nova?.displayName, 'db-1');
  assert.is(after.nova?.ports, null);
  const before = domainXml({ nova: false, otherMetadata: v10 }).replace('</metadata>', `<nova:instance xmlns:nova="${NOVA_NS.v1_1}"><nova:name>new</nova:name></nova:instance></metadata>`);
  assert.is(parseDomain(before, 'd').nova?.displayName, 'new');
});

test('interfaces: MAC and target dev when present, bad MACs as undefined', () => {
  const d = parseDomain(
    domainXml({ interfaces: [{ mac: 'FA:16:3E:00:00:0A', dev: 'tapX' }, { mac: 'not-a-mac' }, { dev: 'vnet3' }, {}] }),
    'd',
  );
  assert.equal(d.interfaces, [
    { mac: 'fa:16:3e:00:00:0a', dev: 'tapX' },
    { mac: undefined, dev: undefined },
    { mac: undefined, dev: 'vnet3' },
    { mac: undefined, dev: undefined },
  ]);
  assert.is(d.uuid, DOMAIN_UUID);
});

test('an upper-case <uuid> is read in lower case; whitespace around name and uuid is ignored', () => {
  const d = parseDomain(`<domain><name>\n  a \n</name><uuid> ${DOMAIN_UUID.toUpperCase()}\n</uuid></domain>`, 'd');
  assert.is(d.name, 'a');
  assert.is(d.uuid, DOMAIN_UUID);
  assert.equal(d.interfaces, []);
});

test('ports read back keep odd values as written, so they compare unequal', () => {
  const ports = `<nova:ports><nova:port uuid="x&lt;y"><nova:ip type="FIXED" address="10.0.0.999" ipVersion="four"/><nova:ip/></nova:port><nova:port/></nova:ports>`;
  assert.equal(parseDomain(domainXml({ novaInner: ports }), 'd').nova?.ports, [
    {
      id: 'x<y',
      ips: [
        { type: 'FIXED', address: '10.0.0.999', version: 'four' },
        { type: '', address: '', version: '' },
      ],
    },
    { id: '', ips: [] },
  ]);
});

test.run();
