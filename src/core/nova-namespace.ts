/** nova's metadata namespaces: 1.0 before nova 23 (Wallaby), 1.1 since. Hosts carry both. */
export const NOVA_NS = {
  v1_0: 'http://openstack.org/xmlns/libvirt/nova/1.0',
  v1_1: 'http://openstack.org/xmlns/libvirt/nova/1.1',
} as const;
export type NovaNamespace = (typeof NOVA_NS)[keyof typeof NOVA_NS];

export function isNovaNamespace(uri: string | null): uri is NovaNamespace {
  return uri === NOVA_NS.v1_0 || uri === NOVA_NS.v1_1;
}
