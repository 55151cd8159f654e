/**
 * What `node nova-ipmeta.cjs --write-code-cache` runs (scripts/bundle-loader.cjs) before it saves
 * V8's code cache: the work of a start on libvirt's path, the hook's migrate filter, and
 * reconcile's reading of a domain file, on a sample nova domain and its cache file in a
 * temporary state directory, and `find` over a directory
 * holding that domain, so the cache holds the bytecode those starts need (docs/design.md, "Cost").
 * Prints nothing; leaves nothing behind.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStore } from './adapters/cache-store';
import { ExitCode } from './exit-code';
import type { Io } from './io';

const UUID = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
const PORTS = ['567a4527-b0e4-4d0a-bcc2-71fda37897f7', 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead'];
const MACS = ['fa:16:3e:5b:1c:09', 'fa:16:3e:c4:7e:21'];

const DOMAIN = `<domain type='kvm'>
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

const QUIET: Io = { out: () => undefined, err: () => undefined, readStdin: () => Promise.resolve(Buffer.alloc(0)), interactive: false };

export async function warmUp(): Promise<ExitCode> {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-warm-up-'));
  try {
    const cacheDir = join(dir, 'network_info');
    const xmlDir = join(dir, 'qemu');
    mkdirSync(cacheDir, { mode: 0o700 });
    mkdirSync(xmlDir);
    writeFileSync(join(cacheDir, `${UUID}.json`), NETWORK_INFO, { mode: 0o600 });
    writeFileSync(join(xmlDir, 'instance-0000002a.xml'), DOMAIN);
    const cache = new CacheStore(cacheDir);
    const { rewriteDomainXml } = await import('./commands/hook/run');
    if (rewriteDomainXml(DOMAIN, cache).kind !== 'changed') throw new Error('warm-up: the sample was not rewritten');
    // reconcile's in-sync reading of a domain file: without a DOM, compared with the cache.
    const { parseLeanXml } = await import('./core/lean-xml');
    const { readDomain } = await import('./core/domain');
    const { comparePorts } = await import('./core/inject');
    const lean = parseLeanXml(DOMAIN);
    const cached = cache.read(UUID);
    if (!lean || cached.kind !== 'ok' || comparePorts(readDomain(lean, 'warm-up'), cached.vifs).kind !== 'changed') throw new Error('warm-up: the sample was not compared');
    const { runMain } = await import('./main');
    const config = join(dir, 'nova-ipmeta.conf');
    writeFileSync(config, '');
    for (const address of ['11.22.33.44', 'FDF8:F53B:82E4:0:0:0:0:53', '192.0.2.1']) {
      await runMain(['find', address, '--live-xml-dir', xmlDir, '--persistent-xml-dir', xmlDir, '--config', config], QUIET);
    }
    return ExitCode.ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
