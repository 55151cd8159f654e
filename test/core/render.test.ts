import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseNetworkInfo } from '../../src/core/network-info';
import { NOVA_NS } from '../../src/core/nova-namespace';
import { readPortsElement } from '../../src/core/ports-xml';
import { renderPorts } from '../../src/core/render';
import { parseXml } from '../../src/core/xml-document';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');
const squash = (xml: string) => xml.replace(/>\s+</g, '><').trim();

test('two-ports.json renders to expected-two-ports.xml', () => {
  const vifs = parseNetworkInfo(fixture('network_info/two-ports.json'), 'two-ports.json');
  assert.is(squash(renderPorts(vifs, NOVA_NS.v1_1)), squash(fixture('expected-two-ports.xml')));
});

test('no ports renders the empty element nova writes', () => {
  assert.is(renderPorts([], NOVA_NS.v1_0).trim(), `<nova:ports xmlns:nova="${NOVA_NS.v1_0}"/>`);
});

test('a port without IP is a self-closing <nova:port>', () => {
  const vifs = parseNetworkInfo(fixture('network_info/port-without-ip.json'), 'x');
  assert.match(renderPorts(vifs, NOVA_NS.v1_1), '<nova:port uuid="3f1c9a52-1111-4a6e-9d0b-0c0ffee00001"/>');
});

test('two-ports.json renders byte for byte as expected-two-ports.xml', () => {
  const vifs = parseNetworkInfo(fixture('network_info/two-ports.json'), 'two-ports.json');
  assert.is(renderPorts(vifs, NOVA_NS.v1_1), fixture('expected-two-ports.xml'));
});

test('the 1.0 namespace when asked, every VIF included, canonical addresses, and it parses back', () => {
  const json = JSON.stringify([
    { id: '567A4527-B0E4-4D0A-BCC2-71FDA37897F7', address: 'FA:16:3E:5B:1C:09', network: { subnets: [{ ips: [{ address: 'FD00:0:0::0001', floating_ips: [{ address: '2001:DB8::7' }] }] }] } },
    { id: 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead', address: 'fa:16:3e:c4:7e:21', network: null },
  ]);
  const xml = renderPorts(parseNetworkInfo(json, 'x'), NOVA_NS.v1_0);
  assert.is(
    xml,
    [
      `<nova:ports xmlns:nova="${NOVA_NS.v1_0}">`,
      '  <nova:port uuid="567a4527-b0e4-4d0a-bcc2-71fda37897f7">',
      '    <nova:ip type="fixed" address="fd00::1" ipVersion="6"/>',
      '    <nova:ip type="floating" address="2001:db8::7" ipVersion="6"/>',
      '  </nova:port>',
      '  <nova:port uuid="a3ca97e2-0cf9-4159-9bfc-afd55bc13ead"/>',
      '</nova:ports>',
      '',
    ].join('\n'),
  );
  const root = parseXml(xml, 'rendered').documentElement;
  assert.is(root?.namespaceURI, NOVA_NS.v1_0);
  assert.equal(root && readPortsElement(root), [
    { id: '567a4527-b0e4-4d0a-bcc2-71fda37897f7', ips: [{ type: 'fixed', address: 'fd00::1', version: '6' }, { type: 'floating', address: '2001:db8::7', version: '6' }] },
    { id: 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead', ips: [] },
  ]);
});

test.run();
