/** Neutron ports, subnets, networks and floating IPs → nova network_info (pure). */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { networkInfoFromNeutron, type NeutronPort, type NeutronView } from '../../src/core/neutron-network-info';
import { validateNetworkInfo } from '../../src/core/network-info';

const t = suite('neutron → network_info');
const INSTANCE = '11111111-2222-4333-8444-555555555555';

const portA: NeutronPort = {
  id: '567a4527-b0e4-4d0a-bcc2-71fda37897f7',
  mac_address: 'fa:16:3e:5b:1c:09',
  network_id: 'net-private',
  device_id: INSTANCE,
  status: 'ACTIVE',
  created_at: '2026-11-24T10:00:00Z',
  fixed_ips: [
    { subnet_id: 'sub-v4', ip_address: '192.168.1.1' },
    { subnet_id: 'sub-v6', ip_address: 'fdf8:f53b:82e4::52' },
  ],
  'binding:vif_type': 'ovs',
};
const portB: NeutronPort = {
  id: 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead',
  mac_address: 'fa:16:3e:c4:7e:21',
  network_id: 'net-storage',
  device_id: INSTANCE,
  status: 'DOWN',
  created_at: '2026-11-24T10:00:05Z',
  fixed_ips: [{ subnet_id: 'sub-storage', ip_address: '10.0.0.1' }],
};

const view = (ports: NeutronPort[], floating: NeutronView['floatingIps'] = []): NeutronView => ({
  ports,
  subnets: new Map([
    ['sub-v4', { id: 'sub-v4', cidr: '192.168.1.0/24', ip_version: 4, gateway_ip: '192.168.1.254', enable_dhcp: true }],
    ['sub-v6', { id: 'sub-v6', cidr: 'fdf8:f53b:82e4::/64', ip_version: 6, gateway_ip: 'fdf8:f53b:82e4::1', ipv6_address_mode: 'dhcpv6-stateful' }],
    ['sub-storage', { id: 'sub-storage', cidr: '10.0.0.0/24', ip_version: 4, gateway_ip: null }],
  ]),
  networks: new Map([
    ['net-private', { id: 'net-private', name: 'private', mtu: 1442 }],
    ['net-storage', { id: 'net-storage', name: 'storage' }],
  ]),
  floatingIps: floating,
});

t('gives the same ports and addresses as nova\'s own network_info for the same instance', () => {
  const built = networkInfoFromNeutron(INSTANCE, view([portB, portA], [{ id: 'f1', floating_ip_address: '11.22.33.44', fixed_ip_address: '192.168.1.1', port_id: portA.id }]));
  const nova = validateNetworkInfo(JSON.parse(readFileSync('test/fixtures/network_info/two-ports.json', 'utf8')));
  assert.equal(validateNetworkInfo(built), nova);
  assert.is(built[0]?.devname, 'tap567a4527-b0');
  assert.is(built[0]?.network.label, 'private');
  assert.is(built[0]?.active, true);
  assert.is(built[1]?.active, false);
  assert.is(built[1]?.type, 'unbound');
});

t('port order: created_at, then id; independent of Neutron\'s answer order', () => {
  const same: NeutronPort = { ...portB, created_at: '2026-11-24T10:00:00Z' };
  const one = networkInfoFromNeutron(INSTANCE, view([same, portA]));
  const two = networkInfoFromNeutron(INSTANCE, view([portA, same]));
  assert.equal(one, two);
  assert.equal(one.map((v) => v.id), [portA.id, portB.id], 'ties by id');
  assert.equal(JSON.stringify(one), JSON.stringify(two), 'byte-identical text');
});

t('floating IPs sit under the fixed IP they are bound to, sorted; other ports and instances are ignored', () => {
  const other = { ...portA, id: '99999999-0000-4000-8000-000000000000', device_id: 'someone-else', mac_address: 'fa:16:3e:00:00:99' };
  const built = networkInfoFromNeutron(
    INSTANCE,
    view(
      [portA, other],
      [
        { id: 'f2', floating_ip_address: '203.0.113.9', fixed_ip_address: '192.168.1.1', port_id: portA.id },
        { id: 'f1', floating_ip_address: '203.0.113.10', fixed_ip_address: '192.168.1.1', port_id: portA.id },
        { id: 'f3', floating_ip_address: '203.0.113.11', fixed_ip_address: '192.168.1.1', port_id: other.id },
      ],
    ),
  );
  assert.is(built.length, 1);
  assert.equal(
    built[0]?.network.subnets[0]?.ips[0]?.floating_ips.map((f) => f.address),
    ['203.0.113.10', '203.0.113.9'],
    'code-unit order of the address text: stable, not numeric',
  );
});

t('no ports: an empty list; a port without fixed IPs: no subnets', () => {
  assert.equal(networkInfoFromNeutron(INSTANCE, view([])), []);
  const bare = networkInfoFromNeutron(INSTANCE, view([{ ...portA, fixed_ips: [] }]));
  assert.equal(bare[0]?.network.subnets, []);
  assert.equal(validateNetworkInfo(bare).map((v) => v.ips), [[]]);
});

t('a subnet Neutron did not return still yields the address, its version from the address', () => {
  const built = networkInfoFromNeutron(INSTANCE, view([{ ...portA, fixed_ips: [{ subnet_id: 'gone', ip_address: 'fd00::7' }] }]));
  assert.equal(validateNetworkInfo(built)[0]?.ips, [{ type: 'fixed', address: 'fd00::7', version: 6 }]);
});

t.run();
