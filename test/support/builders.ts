/**
 * Test inputs written the way nova and libvirt write them: network_info JSON documents and domain
 * XML carrying a nova element, built from a few parameters so each test states only what matters.
 */
import { readFileSync } from 'node:fs';
import { NOVA_NS, type NovaNamespace } from '../../src/core/nova-namespace';

export const fixture = (p: string): string => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');

/** Port n: a UUID whose first 11 characters (the device name part) are unique per n. */
export function portId(n: number): string {
  return `${n.toString(16).padStart(8, '0')}-b0e4-4d0a-bcc2-71fda37897f7`;
}
export function macOf(n: number): string {
  return `fa:16:3e:00:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
}
export function devOf(id: string, prefix = 'tap'): string {
  return `${prefix}${id.slice(0, 11)}`;
}

export interface FixedIpSpec {
  readonly address: string;
  readonly floating?: readonly string[];
}

/** One VIF as nova stores it; `subnets` lists each subnet's fixed IPs with their floating IPs. */
export function vifJson(id: string, mac: string, subnets: readonly (readonly FixedIpSpec[])[] = []): Record<string, unknown> {
  return {
    id,
    address: mac,
    type: 'ovs',
    devname: devOf(id),
    network: {
      label: 'net',
      subnets: subnets.map((ips) => ({
        ips: ips.map((ip) => ({
          address: ip.address,
          type: 'fixed',
          floating_ips: (ip.floating ?? []).map((address) => ({ address, type: 'floating' })),
        })),
      })),
    },
  };
}

export interface InterfaceSpec {
  readonly mac?: string;
  readonly dev?: string;
  /** For a real TCG guest: a managed tap, and no option ROM (iPXE would spin at half a core). */
  readonly guest?: boolean;
}

export const DOMAIN_UUID = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';

export function interfaceXml(i: InterfaceSpec): string {
  return [
    "    <interface type='ethernet'>",
    ...(i.mac !== undefined ? [`      <mac address='${escapeXml(i.mac)}'/>`] : []),
    ...(i.dev !== undefined ? [`      <target dev='${escapeXml(i.dev)}'${i.guest ? " managed='yes'" : ''}/>`] : []),
    "      <model type='virtio'/>",
    ...(i.guest ? ["      <rom enabled='no'/>"] : []),
    '    </interface>',
  ].join('\n');
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** `<nova:ports>` as nova writes it, from (id, [type, address, version]...) tuples. */
export function novaPortsXml(ports: readonly (readonly [string, ...(readonly [string, string, string])[]])[], prefix = 'nova'): string {
  const q = (local: string) => (prefix ? `${prefix}:${local}` : local);
  if (ports.length === 0) return `<${q('ports')}/>`;
  const body = ports.map(([id, ...ips]) =>
    ips.length === 0
      ? `        <${q('port')} uuid="${id}"/>`
      : [
          `        <${q('port')} uuid="${id}">`,
          ...ips.map(([type, address, version]) => `          <${q('ip')} type="${type}" address="${address}" ipVersion="${version}"/>`),
          `        </${q('port')}>`,
        ].join('\n'),
  );
  return [`<${q('ports')}>`, ...body, `      </${q('ports')}>`].join('\n');
}

export interface DomainSpec {
  readonly namespace?: NovaNamespace;
  /** Extra XML inside `<nova:instance>` after its usual children: e.g. a `<nova:ports>`. */
  readonly novaInner?: string;
  /** XML after the nova element inside `<metadata>`: other namespaces, a second nova element. */
  readonly otherMetadata?: string;
  readonly interfaces?: readonly InterfaceSpec[];
  /** false: no nova element at all. */
  readonly nova?: boolean;
}

/** A domain as `virsh dumpxml` prints an instance's, with the given nova element and interfaces. */
export function domainXml(spec: DomainSpec = {}): string {
  const ns = spec.namespace ?? NOVA_NS.v1_1;
  const nova =
    spec.nova === false
      ? ''
      : [
          `    <nova:instance xmlns:nova="${ns}">`,
          '      <nova:package version="26.2.2"/>',
          '      <nova:name>db-1</nova:name>',
          '      <nova:owner>',
          '        <nova:user uuid="3472c2a6-de91-4fb5-b618-42bc781ef670">bob</nova:user>',
          '        <nova:project uuid="f241e906-010e-4917-ae81-53f4fb8aa021">data</nova:project>',
          '      </nova:owner>',
          '      <nova:root type="image" uuid="fe55c69a-8b2e-4bbc-811a-9ad2023a0426"/>',
          ...(spec.novaInner ? [`      ${spec.novaInner}`] : []),
          '    </nova:instance>',
        ].join('\n');
  return [
    "<domain type='kvm'>",
    '  <name>instance-0000002b</name>',
    `  <uuid>${DOMAIN_UUID}</uuid>`,
    '  <metadata>',
    ...(nova ? [nova] : []),
    ...(spec.otherMetadata ? [`    ${spec.otherMetadata}`] : []),
    '  </metadata>',
    "  <memory unit='KiB'>65536</memory>",
    '  <devices>',
    ...(spec.interfaces ?? []).map(interfaceXml),
    '  </devices>',
    '</domain>',
    '',
  ].join('\n');
}
