/**
 * The sample the warm-ups run on (src/warm-up/): a nova domain, the network_info that changes its
 * ports (in a file of its own too), and a temporary state directory holding both and a config
 * file naming it, removed afterwards whatever happened; and an Io that feeds a command its stdin
 * and keeps what it prints.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStore } from '../adapters/cache-store';
import { resolveSettings } from '../adapters/settings';
import type { Io } from '../io';

export const UUID = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
const PORTS = ['567a4527-b0e4-4d0a-bcc2-71fda37897f7', 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead'];
const MACS = ['fa:16:3e:5b:1c:09', 'fa:16:3e:c4:7e:21'];

export const DOMAIN = `<domain type='kvm'>
  <name>instance-0000002a</name>
  <uuid>${UUID}</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="26.2.2"/>
      <nova:name>web-1</nova:name>
      <nova:creationTime>2026-03-02 08:14:55</nova:creationTime>
      <nova:flavor name="m1.small"><nova:memory>2048</nova:memory><nova:disk>20</nova:disk><nova:swap>0</nova:swap><nova:ephemeral>0</nova:ephemeral><nova:vcpus>1</nova:vcpus></nova:flavor>
      <nova:owner><nova:user uuid="2997526f-669c-4bd9-af5f-68c6ba0cc2f0">alice</nova:user><nova:project uuid="acf923f2-9b4d-4e0d-acfb-1b2976dd480f">web</nova:project></nova:owner>
      <nova:root type="image" uuid="66e81ebe-9d4f-45ae-b79b-b3d9dc989b21"/>
      <nova:ports><nova:port uuid="${PORTS[0]}"><nova:ip type="fixed" address="192.168.1.1" ipVersion="4"/></nova:port></nova:ports>
    </nova:instance>
  </metadata>
  <memory unit='KiB'>2097152</memory>
  <devices>
    <interface type='ethernet'><mac address='${MACS[0]}'/><target dev='tap${PORTS[0]?.slice(0, 11)}'/><model type='virtio'/></interface>
    <interface type='ethernet'><mac address='${MACS[1]}'/><target dev='tap${PORTS[1]?.slice(0, 11)}'/><model type='virtio'/></interface>
  </devices>
</domain>
`;

const NETWORK_INFO = JSON.stringify(
  PORTS.map((id, i) => ({
    id,
    address: MACS[i],
    network: {
      subnets: [
        { ips: [{ address: `192.168.1.${i + 1}`, type: 'fixed', version: 4, floating_ips: [{ address: `11.22.33.${i + 44}`, type: 'floating', version: 4 }] }] },
        { ips: [{ address: `fdf8:f53b:82e4::${i + 52}`, type: 'fixed', version: 6, floating_ips: [] }] },
      ],
    },
  })),
);

export interface Sample {
  readonly dir: string;
  /** A config file whose state directory is `dir`, its cache holding NETWORK_INFO for UUID. */
  readonly config: string;
  /** A directory holding DOMAIN as `instance-0000002a.xml`, as libvirt keeps its files. */
  readonly xmlDir: string;
  /** That file. */
  readonly domainFile: string;
  /** A file holding NETWORK_INFO, as `render` and `inject` take it. */
  readonly networkInfo: string;
}

export async function withSample<T>(work: (sample: Sample) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-warm-up-'));
  try {
    const config = join(dir, 'nova-ipmeta.conf');
    writeFileSync(config, `[DEFAULT]\nstate_dir = ${dir}\n`);
    // The cache as every command finds it: from the config alone, none of the caller's environment.
    new CacheStore(resolveSettings({ config }, {}).cacheDir).put(UUID, NETWORK_INFO);
    const xmlDir = join(dir, 'qemu');
    mkdirSync(xmlDir);
    const domainFile = join(xmlDir, 'instance-0000002a.xml');
    writeFileSync(domainFile, DOMAIN);
    const networkInfo = join(dir, 'network_info.json');
    writeFileSync(networkInfo, NETWORK_INFO);
    return await work({ dir, config, xmlDir, domainFile, networkInfo });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An Io reading `stdin` and keeping what is printed. */
export function sampleIo(stdin = ''): { readonly io: Io; readonly out: () => string; readonly err: () => string } {
  let out = '';
  let err = '';
  const io: Io = {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    readStdin: () => Promise.resolve(Buffer.from(stdin)),
    interactive: false,
  };
  return { io, out: () => out, err: () => err };
}
