/**
 * Neutron's answer (ports, their subnets and networks, the floating IPs bound to them) turned into
 * nova's network_info for one instance, the format the cache holds (docs/design.md, "Facts about nova"), so a synced file
 * and one pushed by an operator are read the same way. Pure: the caller fetches, validates the
 * result with `validateNetworkInfo` and stores it.
 *
 * Order, since `<nova:ports>` equality depends on it and Neutron does not know nova's VIF order:
 * - ports by `created_at`, then by id (nova attaches VIFs in creation order at boot; ties and
 *   ports without a timestamp fall back to the id, so the order never changes between syncs);
 * - within a port, subnets in the order of their first fixed IP in `fixed_ips`, IPs in
 *   `fixed_ips` order (as nova builds it);
 * - floating IPs under the fixed IP they are bound to, by address then id.
 * The output is deterministic (fixed key order), so an unchanged Neutron gives byte-identical text.
 */

/** The fields of a Neutron port this module reads (GET /v2.0/ports). */
export interface NeutronPort {
  readonly id: string;
  readonly mac_address: string;
  readonly network_id: string;
  readonly device_id: string;
  readonly status?: string | undefined;
  readonly created_at?: string | undefined;
  readonly fixed_ips?: readonly { readonly subnet_id: string; readonly ip_address: string }[];
  readonly 'binding:vif_type'?: string | undefined;
  readonly 'binding:vnic_type'?: string | undefined;
}

export interface NeutronSubnet {
  readonly id: string;
  readonly cidr: string;
  readonly ip_version: number;
  readonly gateway_ip?: string | null;
  readonly enable_dhcp?: boolean | undefined;
  readonly ipv6_address_mode?: string | null;
}

export interface NeutronNetwork {
  readonly id: string;
  readonly name?: string | undefined;
  readonly mtu?: number | undefined;
}

export interface NeutronFloatingIp {
  readonly id: string;
  readonly floating_ip_address: string;
  readonly fixed_ip_address?: string | null;
  readonly port_id?: string | null;
}

export interface NeutronView {
  readonly ports: readonly NeutronPort[];
  readonly subnets: ReadonlyMap<string, NeutronSubnet>;
  readonly networks: ReadonlyMap<string, NeutronNetwork>;
  readonly floatingIps: readonly NeutronFloatingIp[];
}

/** One VIF of nova's network_info, as this module writes it. */
export interface NetworkInfoVif {
  id: string;
  address: string;
  network: {
    id: string;
    label: string | null;
    subnets: {
      cidr: string;
      gateway: { address: string; type: 'gateway'; version: number } | null;
      ips: { address: string; type: 'fixed'; version: number; floating_ips: { address: string; type: 'floating'; version: number }[] }[];
      version: number;
      meta: Record<string, unknown>;
    }[];
    meta: Record<string, unknown>;
  };
  type: string;
  devname: string;
  active: boolean;
  vnic_type: string;
}

/** The network_info of the instance `instanceId` (its ports: those whose device_id is it). */
export function networkInfoFromNeutron(instanceId: string, view: NeutronView): NetworkInfoVif[] {
  const ports = view.ports.filter((p) => p.device_id === instanceId).sort(portOrder);
  return ports.map((port) => vifOf(port, view));
}

function portOrder(a: NeutronPort, b: NeutronPort): number {
  const ca = a.created_at ?? '';
  const cb = b.created_at ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function vifOf(port: NeutronPort, view: NeutronView): NetworkInfoVif {
  const network = view.networks.get(port.network_id);
  const floating = view.floatingIps
    .filter((f) => f.port_id === port.id)
    .sort((a, b) => compareText(a.floating_ip_address, b.floating_ip_address) || compareText(a.id, b.id));
  const subnets: NetworkInfoVif['network']['subnets'] = [];
  const bySubnet = new Map<string, NetworkInfoVif['network']['subnets'][number]>();
  for (const fixed of port.fixed_ips ?? []) {
    let subnet = bySubnet.get(fixed.subnet_id);
    if (!subnet) {
      const s = view.subnets.get(fixed.subnet_id);
      const version = s?.ip_version ?? versionOf(fixed.ip_address);
      subnet = {
        cidr: s?.cidr ?? '',
        gateway: s?.gateway_ip ? { address: s.gateway_ip, type: 'gateway', version } : null,
        ips: [],
        version,
        meta: s ? subnetMeta(s) : {},
      };
      bySubnet.set(fixed.subnet_id, subnet);
      subnets.push(subnet);
    }
    subnet.ips.push({
      address: fixed.ip_address,
      type: 'fixed',
      version: subnet.version,
      floating_ips: floating
        .filter((f) => f.fixed_ip_address === fixed.ip_address)
        .map((f) => ({ address: f.floating_ip_address, type: 'floating', version: versionOf(f.floating_ip_address) })),
    });
  }
  return {
    id: port.id,
    address: port.mac_address,
    network: {
      id: port.network_id,
      label: network?.name ?? null,
      subnets,
      meta: network?.mtu === undefined ? {} : { mtu: network.mtu },
    },
    type: port['binding:vif_type'] ?? 'unbound',
    devname: `tap${port.id.slice(0, 11)}`,
    active: port.status === 'ACTIVE',
    vnic_type: port['binding:vnic_type'] ?? 'normal',
  };
}

function subnetMeta(s: NeutronSubnet): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  if (s.enable_dhcp !== undefined) meta.enable_dhcp = s.enable_dhcp;
  if (s.ipv6_address_mode) meta.ipv6_address_mode = s.ipv6_address_mode;
  return meta;
}

function versionOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
