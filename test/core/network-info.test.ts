/** parseNetworkInfo: nova's network_info reduced to VIFs, strictly, with one-line errors naming path and value. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../src/errors';
import { LIMITS, parseNetworkInfo } from '../../src/core/network-info';
import { fixture, macOf, portId, vifJson } from '../support/builders';

const A = '567a4527-b0e4-4d0a-bcc2-71fda37897f7';
const B = 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead';
const MAC_A = 'fa:16:3e:5b:1c:09';
const MAC_B = 'fa:16:3e:c4:7e:21';

const parse = (json: unknown) => parseNetworkInfo(JSON.stringify(json), 'f.json');
/** Plain data for deep comparison: [id, mac, [type, address, version]...]. */
const flat = (json: unknown) => parse(json).map((v) => [v.id, v.mac, ...v.ips.map((ip) => [ip.type, ip.address, ip.version])]);

/** `input` is JSON text when a string, else data to serialize. */
function rejects(input: unknown, message: string): void {
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  let error: unknown;
  try {
    parseNetworkInfo(text, 'f.json');
  } catch (err) {
    error = err;
  }
  if (error === undefined) assert.unreachable(`accepted: ${text.slice(0, 200)}`);
  assert.instance(error, InputError);
  assert.is((error as InputError).message, `f.json: ${message}`);
  assert.is((error as InputError).where, 'f.json');
  assert.not.match((error as Error).message, '\n');
}

/** A network_info of one VIF whose one subnet holds the given raw ip objects. */
const withIps = (...ips: unknown[]) => [{ id: A, address: MAC_A, network: { subnets: [{ ips }] } }];

// --- what is accepted, and how it is reduced -------------------------------------------------

test('two-ports.json: ids, MACs, fixed IPs in subnet order, then floating IPs', () => {
  assert.equal(
    parseNetworkInfo(fixture('network_info/two-ports.json'), 'two-ports.json').map((v) => [v.id, v.mac, v.ips.map((ip) => [ip.type, ip.address, ip.version])]),
    [
      [A, MAC_A, [['fixed', '192.168.1.1', 4], ['fixed', 'fdf8:f53b:82e4::52', 6], ['floating', '11.22.33.44', 4]]],
      [B, MAC_B, [['fixed', '10.0.0.1', 4]]],
    ],
  );
});

test('no-ports.json is no VIFs; port-without-ip.json is a VIF with no IPs', () => {
  assert.equal(parseNetworkInfo(fixture('network_info/no-ports.json'), 'x'), []);
  assert.equal(
    parseNetworkInfo(fixture('network_info/port-without-ip.json'), 'x').map((v) => [v.id, v.ips.length]),
    [['3f1c9a52-1111-4a6e-9d0b-0c0ffee00001', 0]],
  );
});

test('every fixed IP (subnets, then IPs) comes before every floating IP (in the order of their fixed IPs)', () => {
  const json = [
    vifJson(A, MAC_A, [
      [{ address: '10.0.0.1', floating: ['1.1.1.1'] }, { address: '10.0.0.2', floating: ['2.2.2.2', '2.2.2.3'] }],
      [{ address: 'fd00::5', floating: ['2001:db8::9'] }],
    ]),
  ];
  assert.equal(flat(json), [
    [A, MAC_A, ['fixed', '10.0.0.1', 4], ['fixed', '10.0.0.2', 4], ['fixed', 'fd00::5', 6], ['floating', '1.1.1.1', 4], ['floating', '2.2.2.2', 4], ['floating', '2.2.2.3', 4], ['floating', '2001:db8::9', 6]],
  ]);
});

test('an IPv6 subnet listed first stays first', () => {
  assert.equal(flat([vifJson(A, MAC_A, [[{ address: '2001:db8::1' }], [{ address: '10.0.0.1' }]])]), [
    [A, MAC_A, ['fixed', '2001:db8::1', 6], ['fixed', '10.0.0.1', 4]],
  ]);
});

test('the VIFs keep the cache order', () => {
  const ids = [5, 3, 9, 1].map(portId);
  assert.equal(
    parse(ids.map((id, i) => vifJson(id, macOf(i)))).map((v) => v.id),
    ids,
  );
});

test('a missing or null type means the type of its list; a missing or null version comes from the address', () => {
  const json = withIps(
    { address: '10.0.0.1' },
    { address: 'fd00::1', type: null, version: null, floating_ips: [{ address: '1.2.3.4' }, { address: '2001:db8::7', type: null }] },
  );
  assert.equal(flat(json), [[A, MAC_A, ['fixed', '10.0.0.1', 4], ['fixed', 'fd00::1', 6], ['floating', '1.2.3.4', 4], ['floating', '2001:db8::7', 6]]]);
});

test('"network": null, no network, no subnets, null subnets, a subnet without ips: a port with no IPs', () => {
  for (const vif of [
    { network: null },
    {},
    { network: {} },
    { network: { subnets: [] } },
    { network: { subnets: null } },
    { network: { subnets: [{}] } },
    { network: { subnets: [{ ips: null }, { ips: [] }] } },
  ]) {
    assert.equal(flat([{ id: A, address: MAC_A, ...vif }]), [[A, MAC_A]], JSON.stringify(vif));
  }
});

test('a fixed IP with null or empty floating_ips has no floating IP', () => {
  assert.equal(flat(withIps({ address: '10.0.0.1', floating_ips: null }, { address: '10.0.0.2', floating_ips: [] })), [
    [A, MAC_A, ['fixed', '10.0.0.1', 4], ['fixed', '10.0.0.2', 4]],
  ]);
});

test('ids and MACs come out lower case; addresses canonical', () => {
  const json = [{ id: A.toUpperCase(), address: MAC_A.toUpperCase(), network: { subnets: [{ ips: [{ address: 'FDF8:F53B:82E4:0000:0000:0000:0000:0052', version: 6 }, { address: '::FFFF:C000:0201' }] }] } }];
  assert.equal(flat(json), [[A, MAC_A, ['fixed', 'fdf8:f53b:82e4::52', 6], ['fixed', '::ffff:192.0.2.1', 6]]]);
});

test('the same address on two different ports is fine (overlapping tenant networks)', () => {
  assert.equal(flat([vifJson(A, MAC_A, [[{ address: '10.0.0.5' }]]), vifJson(B, MAC_B, [[{ address: '10.0.0.5' }]])]).length, 2);
});

test('fields nova-ipmeta does not use are not checked', () => {
  assert.equal(flat([{ id: A, address: MAC_A, type: 42, details: 'x', devname: null, active: 'yes', network: { id: 5, label: [], meta: 'm', subnets: [{ cidr: 7, dns: 'x', ips: [] }] } }]), [[A, MAC_A]]);
});

// --- what is rejected, and the one line that says so -----------------------------------------

test('an address that is not an IP: the example of the issue', () => {
  const vif1 = { id: B, address: MAC_B, network: { subnets: [{ ips: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }, { address: '10.0.0.999' }] }] } };
  rejects([vifJson(A, MAC_A), vif1], '[1].network.subnets[0].ips[2].address: "10.0.0.999" is not an IP address');
});

test('addresses that are not IPs, fixed and floating', () => {
  for (const bad of ['1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '01.2.3.4', '256.1.1.1', '', ' 10.0.0.1', '10.0.0.0/24']) {
    rejects(withIps({ address: bad }), `[0].network.subnets[0].ips[0].address: ${JSON.stringify(bad)} is not an IP address`);
  }
  rejects(withIps({ address: '10.0.0.1', floating_ips: [{ address: '11.22.33.444' }] }), '[0].network.subnets[0].ips[0].floating_ips[0].address: "11.22.33.444" is not an IP address');
});

test('a port id that is not a UUID', () => {
  rejects([{ id: 'not-a-uuid', address: MAC_A }], '[0].id: "not-a-uuid" is not a UUID');
  rejects([{ id: `${A}0`, address: MAC_A }], `[0].id: "${A}0" is not a UUID`);
  rejects([{ id: A.replace(/-/g, ''), address: MAC_A }], `[0].id: "${A.replace(/-/g, '')}" is not a UUID`);
  rejects([{ id: `{${A}}`, address: MAC_A }], `[0].id: "{${A}}" is not a UUID`);
});

test('a MAC that is not a MAC', () => {
  rejects([{ id: A, address: 'fa:16:3e:5b:1c' }], '[0].address: "fa:16:3e:5b:1c" is not a MAC address');
  rejects([{ id: A, address: 'fa-16-3e-5b-1c-09' }], '[0].address: "fa-16-3e-5b-1c-09" is not a MAC address');
  rejects([{ id: A, address: 'fa:16:3e:5b:1c:0g' }], '[0].address: "fa:16:3e:5b:1c:0g" is not a MAC address');
  rejects([{ id: A, address: '10.0.0.1' }], '[0].address: "10.0.0.1" is not a MAC address');
});

test('a version that contradicts its address, or is not 4 or 6', () => {
  rejects(withIps({ address: '10.0.0.1', version: 6 }), '[0].network.subnets[0].ips[0].version: 6 contradicts the address 10.0.0.1 (IPv4)');
  rejects(withIps({ address: 'fd00::1', version: 4 }), '[0].network.subnets[0].ips[0].version: 4 contradicts the address fd00::1 (IPv6)');
  rejects(withIps({ address: '10.0.0.1', floating_ips: [{ address: '1.2.3.4', version: 6 }] }), '[0].network.subnets[0].ips[0].floating_ips[0].version: 6 contradicts the address 1.2.3.4 (IPv4)');
  rejects(withIps({ address: '10.0.0.1', version: 5 }), '[0].network.subnets[0].ips[0].version: 5 is not 4 or 6');
  rejects(withIps({ address: '10.0.0.1', version: '4' }), '[0].network.subnets[0].ips[0].version: "4" is not 4 or 6');
  rejects(withIps({ address: '10.0.0.1', version: 4.0001 }), '[0].network.subnets[0].ips[0].version: 4.0001 is not 4 or 6');
});

test('a type other than fixed or floating, or the other one of its list', () => {
  rejects(withIps({ address: '10.0.0.1', type: 'dhcp' }), '[0].network.subnets[0].ips[0].type: "dhcp" is not "fixed" or "floating"');
  rejects(withIps({ address: '10.0.0.1', type: 'Fixed' }), '[0].network.subnets[0].ips[0].type: "Fixed" is not "fixed" or "floating"');
  rejects(withIps({ address: '10.0.0.1', type: 'floating' }), '[0].network.subnets[0].ips[0].type: "floating" is not "fixed", as its list implies');
  rejects(withIps({ address: '10.0.0.1', floating_ips: [{ address: '1.2.3.4', type: 'fixed' }] }), '[0].network.subnets[0].ips[0].floating_ips[0].type: "fixed" is not "floating", as its list implies');
});

test('wrong JSON types, wherever they can occur', () => {
  const cases: [unknown, string][] = [
    [{}, '{} is not a list of VIFs'],
    ['"x"', '"x" is not a list of VIFs'],
    [null, 'null is not a list of VIFs'],
    [7, '7 is not a list of VIFs'],
    [[null], '[0]: null is not an object'],
    [[[A]], `[0]: ["${A}"] is not an object`],
    [['x'], '[0]: "x" is not an object'],
    [[{ address: MAC_A }], '[0].id: is missing'],
    [[{ id: 42, address: MAC_A }], '[0].id: 42 is not a string'],
    [[{ id: null, address: MAC_A }], '[0].id: null is not a string'],
    [[{ id: A }], '[0].address: is missing'],
    [[{ id: A, address: ['fa'] }], '[0].address: ["fa"] is not a string'],
    [[{ id: A, address: MAC_A, network: 'net' }], '[0].network: "net" is not an object'],
    [[{ id: A, address: MAC_A, network: [] }], '[0].network: [] is not an object'],
    [[{ id: A, address: MAC_A, network: { subnets: {} } }], '[0].network.subnets: {} is not a list'],
    [[{ id: A, address: MAC_A, network: { subnets: 'x' } }], '[0].network.subnets: "x" is not a list'],
    [[{ id: A, address: MAC_A, network: { subnets: [1] } }], '[0].network.subnets[0]: 1 is not an object'],
    [[{ id: A, address: MAC_A, network: { subnets: [{ ips: true }] } }], '[0].network.subnets[0].ips: true is not a list'],
    [withIps('10.0.0.1'), '[0].network.subnets[0].ips[0]: "10.0.0.1" is not an object'],
    [withIps({}), '[0].network.subnets[0].ips[0].address: is missing'],
    [withIps({ address: 167772161 }), '[0].network.subnets[0].ips[0].address: 167772161 is not a string'],
    [withIps({ address: '10.0.0.1', type: 1 }), '[0].network.subnets[0].ips[0].type: 1 is not a string'],
    [withIps({ address: '10.0.0.1', floating_ips: {} }), '[0].network.subnets[0].ips[0].floating_ips: {} is not a list'],
    [withIps({ address: '10.0.0.1', floating_ips: ['1.2.3.4'] }), '[0].network.subnets[0].ips[0].floating_ips[0]: "1.2.3.4" is not an object'],
    [withIps({ address: '10.0.0.1', floating_ips: [{ address: null }] }), '[0].network.subnets[0].ips[0].floating_ips[0].address: null is not a string'],
  ];
  for (const [json, message] of cases) rejects(json, message);
});

test('text that is not JSON is one line naming the file', () => {
  for (const text of ['', '[', "[{'id': 1}]", '[1,]', 'null x']) {
    try {
      parseNetworkInfo(text, 'f.json');
      assert.unreachable(text);
    } catch (err) {
      assert.instance(err, InputError);
      assert.match((err as Error).message, /^f\.json: not JSON: [^\n]+$/);
    }
  }
});

test('duplicate port ids and MACs, whatever their case', () => {
  rejects([vifJson(A, MAC_A), vifJson(A.toUpperCase(), MAC_B)], `[1].id: "${A}" repeats [0].id`);
  rejects([vifJson(A, MAC_A), vifJson(B, MAC_B), vifJson(portId(1), MAC_A.toUpperCase())], `[2].address: "${MAC_A}" repeats [0].address`);
});

test('a duplicate address within a port, however it is spelled, fixed or floating', () => {
  rejects(withIps({ address: '10.0.0.1' }, { address: '10.0.0.1' }), '[0].network.subnets[0].ips[1].address: "10.0.0.1" repeats [0].network.subnets[0].ips[0].address');
  rejects(
    [{ id: A, address: MAC_A, network: { subnets: [{ ips: [{ address: 'fd00::1' }] }, { ips: [{ address: 'FD00:0:0::0001' }] }] } }],
    '[0].network.subnets[1].ips[0].address: "FD00:0:0::0001" repeats [0].network.subnets[0].ips[0].address',
  );
  rejects(
    withIps({ address: '10.0.0.1', floating_ips: [{ address: '1.1.1.1' }] }, { address: '10.0.0.2', floating_ips: [{ address: '1.1.1.1' }] }),
    '[0].network.subnets[0].ips[1].floating_ips[0].address: "1.1.1.1" repeats [0].network.subnets[0].ips[0].floating_ips[0].address',
  );
  rejects(withIps({ address: '10.0.0.1', floating_ips: [{ address: '10.0.0.1' }] }), '[0].network.subnets[0].ips[0].floating_ips[0].address: "10.0.0.1" repeats [0].network.subnets[0].ips[0].address');
});

test(`at most ${LIMITS.ports} ports`, () => {
  const vifs = (n: number) => Array.from({ length: n }, (_, i) => vifJson(portId(i), macOf(i), [[{ address: `10.0.${i}.1` }]]));
  assert.is(parse(vifs(LIMITS.ports)).length, 64);
  rejects(vifs(LIMITS.ports + 1), '65 ports, more than the limit of 64');
  rejects(Array.from({ length: 1000 }, () => null), '1000 ports, more than the limit of 64');
});

test(`at most ${LIMITS.addresses} addresses in all`, () => {
  const ips = (port: number, n: number) => Array.from({ length: n }, (_, i) => ({ address: `10.${port}.${i >> 8}.${i & 255}` }));
  const doc = (a: number, b: number) => [
    { id: A, address: MAC_A, network: { subnets: [{ ips: ips(0, a) }] } },
    { id: B, address: MAC_B, network: { subnets: [{ ips: ips(1, b) }] } },
  ];
  assert.is(parse(doc(200, 56)).flatMap((v) => v.ips).length, 256);
  rejects(doc(200, 57), '[1]: more than the limit of 256 addresses in all');
  // floating IPs count too
  const floats = [{ id: A, address: MAC_A, network: { subnets: [{ ips: [{ address: '10.0.0.1', floating_ips: ips(2, 256) }] }] } }];
  rejects(floats, '[0]: more than the limit of 256 addresses in all');
});

test(`a document over ${LIMITS.bytes} bytes, counted in bytes, is refused before parsing`, () => {
  const exact = `[${' '.repeat(LIMITS.bytes - 2)}]`;
  assert.equal(parseNetworkInfo(exact, 'f.json'), []);
  rejects(`[${' '.repeat(LIMITS.bytes - 1)}]`, 'network_info is larger than 1048576 bytes');
  // 600 Ki characters, 1.2 MiB of UTF-8, and not even valid: refused on size first
  rejects(`"${'é'.repeat(600 * 1024)}`, 'network_info is larger than 1048576 bytes');
});

test('hostile values are quoted, escaped, bounded: still one line', () => {
  rejects([{ id: 'a"<&]]>\u0001\n\r\u2028b', address: MAC_A }], '[0].id: "a\\"<&]]>\\u0001\\n\\r\u2028b" is not a UUID');
  rejects([{ id: 'x'.repeat(10_000), address: MAC_A }], `[0].id: "${'x'.repeat(78)}… is not a UUID`);
  rejects([{ id: A, address: { toString: 1 } }], '[0].address: {"toString":1} is not a string');
  rejects([{ id: A, address: MAC_A, network: { subnets: [{ ips: [{ address: '<script>&amp;' }] }] } }], '[0].network.subnets[0].ips[0].address: "<script>&amp;" is not an IP address');
});

test('__proto__ keys are data, not prototypes', () => {
  rejects('[{"__proto__": {"id": "x"}, "address": "fa:16:3e:5b:1c:09"}]', '[0].id: is missing');
});

test.run();
