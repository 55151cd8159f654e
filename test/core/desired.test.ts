/** desiredPorts (docs/design.md, "The one flow"): which ports, in which order, with which addresses. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredPorts, deviceMatchesPort } from '../../src/core/desired';
import { parseDomain } from '../../src/core/domain';
import { parseMac, type DomainInterface, type Port } from '../../src/core/model';
import { parseNetworkInfo } from '../../src/core/network-info';
import type { ReadPort } from '../../src/core/ports-xml';
import { devOf, domainXml, macOf, novaPortsXml, portId, vifJson, type FixedIpSpec } from '../support/builders';

/** Port n of these tests and the MAC nova gave it. */
const p = (n: number) => portId(0xa0 + n);
const mac = (n: number) => macOf(0xa0 + n);

const vifs = (...v: [number, ...(readonly FixedIpSpec[])[]][]) =>
  parseNetworkInfo(JSON.stringify(v.map(([n, ...subnets]) => vifJson(p(n), mac(n), subnets))), 'cache');
const iface = (mac: string | undefined, dev?: string): DomainInterface => ({ mac: mac === undefined ? undefined : parseMac(mac), dev });
/** Plugged as nova plugs it: the VIF's MAC and `tap` + 11 characters of its port id. */
const plugged = (n: number) => iface(mac(n), devOf(p(n)));
const read = (id: string, ...ips: [string, string, string][]): ReadPort => ({ id, ips: ips.map(([type, address, version]) => ({ type, address, version })) });
const show = (ports: readonly Port[]) => ports.map((p) => [p.id, ...p.ips.map((ip) => `${ip.type} ${ip.address} ${ip.version}`)]);

test('cached VIFs plugged into the domain, in cache order, whatever the interface order', () => {
  const cache = vifs([2, [{ address: '10.0.2.1' }]], [0, [{ address: '10.0.0.1' }]], [1]);
  assert.equal(show(desiredPorts(cache, [plugged(0), plugged(1), plugged(2)], null)), [[p(2), 'fixed 10.0.2.1 4'], [p(0), 'fixed 10.0.0.1 4'], [p(1)]]);
});

test('fixed IPs in subnet then IP order, then the floating IPs', () => {
  const cache = vifs([0, [{ address: 'fd00::a' }, { address: '10.0.0.1', floating: ['1.1.1.1'] }], [{ address: '10.1.0.1', floating: ['2.2.2.2'] }]]);
  assert.equal(show(desiredPorts(cache, [plugged(0)], [])), [[p(0), 'fixed fd00::a 6', 'fixed 10.0.0.1 4', 'fixed 10.1.0.1 4', 'floating 1.1.1.1 4', 'floating 2.2.2.2 4']]);
});

test('no VIFs and no current ports: no ports', () => {
  assert.equal(desiredPorts([], [], null), []);
  assert.equal(desiredPorts([], [plugged(0)], []), []);
});

test('a cached VIF whose MAC is on no interface is dropped, even when its device name is still there', () => {
  const cache = vifs([0], [1], [2]);
  // port 1's interface carries another MAC now; port 2 has no interface at all
  const interfaces = [plugged(0), iface('52:54:00:00:00:01', devOf(p(1)))];
  assert.equal(show(desiredPorts(cache, interfaces, [read(p(1)), read(p(2))])), [[p(0)]]);
});

test('the MAC match ignores case (interfaces read from the domain XML)', () => {
  const domain = parseDomain(domainXml({ interfaces: [{ mac: mac(0).toUpperCase() }, { mac: 'Fa:16:3E:00:00:A1' }] }), 'd');
  assert.equal(show(desiredPorts(vifs([0], [1]), domain.interfaces, null)), [[p(0)], [p(1)]]);
});

test('an interface without <mac> or with a bad one matches nothing', () => {
  assert.equal(desiredPorts(vifs([0]), [iface(undefined, devOf(p(0))), iface('zz:zz')], null), []);
});

test('ports the metadata lists but the cache lacks are kept after the cached ones, while their interface is there', () => {
  const cache = vifs([0, [{ address: '10.0.0.1' }]]);
  const current = [read(p(4), ['fixed', '10.0.4.1', '4']), read(p(0), ['fixed', '10.9.9.9', '4']), read(p(3))];
  const interfaces = [plugged(3), plugged(0), iface(undefined, devOf(p(4)))];
  assert.equal(show(desiredPorts(cache, interfaces, current)), [[p(0), 'fixed 10.0.0.1 4'], [p(4), 'fixed 10.0.4.1 4'], [p(3)]]);
});

test('a kept port keeps its addresses as written, floating ones included, in canonical text', () => {
  const current = [read(p(3).toUpperCase(), ['floating', '1.2.3.4', '4'], ['fixed', 'FD00:0::1', '6'])];
  assert.equal(show(desiredPorts([], [plugged(3)], current)), [[p(3), 'floating 1.2.3.4 4', 'fixed fd00::1 6']]);
});

test('a kept port is recognised by any 3-letter device prefix, in any case', () => {
  for (const dev of [devOf(p(3), 'vhu'), devOf(p(3), 'qvo'), devOf(p(3)).toUpperCase()]) {
    assert.equal(show(desiredPorts([], [iface(undefined, dev)], [read(p(3))])), [[p(3)]], dev);
  }
});

test('ports whose interface is gone are dropped', () => {
  const current = [read(p(3), ['fixed', '10.0.3.1', '4']), read(p(4))];
  const near = [
    iface(undefined, undefined),
    iface(undefined, `tap${p(3).slice(0, 10)}`),
    iface(undefined, `tap${p(3).slice(0, 12)}`),
    iface(undefined, `ta${p(3).slice(0, 11)}`),
    iface(undefined, 'vnet0'),
    iface(mac(3), undefined),
  ];
  assert.equal(desiredPorts([], near, current), []);
});

test('a cached port keeps only the cached addresses: the metadata does not add to it', () => {
  const current = [read(p(0), ['fixed', '10.0.0.1', '4'], ['floating', '9.9.9.9', '4'])];
  assert.equal(show(desiredPorts(vifs([0, [{ address: '10.0.0.1' }]]), [plugged(0)], current)), [[p(0), 'fixed 10.0.0.1 4']]);
});

test('a port listed twice in the metadata is kept once', () => {
  assert.equal(show(desiredPorts([], [plugged(3)], [read(p(3)), read(p(3), ['fixed', '10.0.0.1', '4'])])), [[p(3)]]);
});

test('a listed port that is not well formed is not carried over', () => {
  const dev = [plugged(3)];
  for (const bad of [
    read(p(3), ['fixed', '10.0.0.999', '4']),
    read(p(3), ['fixed', '10.0.0.1', '6']),
    read(p(3), ['fixed', '10.0.0.1', '']),
    read(p(3), ['dhcp', '10.0.0.1', '4']),
    read(p(3), ['Fixed', '10.0.0.1', '4']),
    read(p(3).slice(0, 11)),
    read(''),
  ]) {
    assert.equal(desiredPorts([], dev, [bad]), [], JSON.stringify(bad));
  }
});

test('interfaces missing from the cache and cached ports missing from the domain, together', () => {
  const domain = parseDomain(
    domainXml({
      interfaces: [
        { mac: mac(0), dev: devOf(p(0)) },
        { mac: '52:54:00:12:34:56', dev: 'vnet7' },
        { mac: mac(5), dev: devOf(p(5)) },
      ],
      novaInner: novaPortsXml([[p(5), ['fixed', '10.0.5.1', '4']], [p(1), ['fixed', '10.0.1.1', '4']]]),
    }),
    'd',
  );
  const cache = vifs([1, [{ address: '10.0.1.1' }]], [0, [{ address: '10.0.0.1' }]]);
  assert.equal(show(desiredPorts(cache, domain.interfaces, domain.nova?.ports ?? null)), [[p(0), 'fixed 10.0.0.1 4'], [p(5), 'fixed 10.0.5.1 4']]);
});

test('64 ports, every one plugged', () => {
  const ids = Array.from({ length: 64 }, (_, i) => portId(i));
  const cache = parseNetworkInfo(JSON.stringify(ids.map((id, i) => vifJson(id, macOf(i), [[{ address: `10.0.${i}.1`, floating: [`172.16.${i}.1`] }]]))), 'c');
  const interfaces = ids.map((id, i) => iface(macOf(i), devOf(id))).reverse();
  const ports = desiredPorts(cache, interfaces, null);
  assert.is(ports.length, 64);
  assert.equal(
    ports.map((p) => p.id),
    ids,
  );
  assert.equal(show(ports)[63], [portId(63), 'fixed 10.0.63.1 4', 'floating 172.16.63.1 4']);
});

test('deviceMatchesPort: a 3-letter prefix and the first 11 characters of the port id', () => {
  assert.ok(deviceMatchesPort('tap567a4527-b0', '567a4527-b0e4-4d0a-bcc2-71fda37897f7'));
  assert.ok(deviceMatchesPort('vhu567a4527-b0', '567A4527-B0E4-4D0A-BCC2-71FDA37897F7'));
  assert.not.ok(deviceMatchesPort('tap567a4527-b', '567a4527-b0e4-4d0a-bcc2-71fda37897f7'));
  assert.not.ok(deviceMatchesPort('tap567a4527-b0e', '567a4527-b0e4-4d0a-bcc2-71fda37897f7'));
  assert.not.ok(deviceMatchesPort('tap567a4527-b1', '567a4527-b0e4-4d0a-bcc2-71fda37897f7'));
});

test.run();
