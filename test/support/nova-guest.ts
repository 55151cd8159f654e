/** Test guests that look like nova's: a nova:instance element in either namespace, ports and VIFs to match. */
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NS_1_0 = 'http://openstack.org/xmlns/libvirt/nova/1.0';
export const NS_1_1 = 'http://openstack.org/xmlns/libvirt/nova/1.1';

export interface TestVif {
  id: string;
  mac: string;
  /** nova's device name: tap + 11 characters of the port id. */
  dev: string;
  fixed: string[];
  floating: string[];
}

let counter = 0;
/** A VIF with a fresh port id and MAC, and addresses derived from a counter so every one is unique. */
export function makeVif(opts: { fixed?: string[]; floating?: string[] } = {}): TestVif {
  counter++;
  const id = randomUUID();
  const mac = `fa:16:3e:${[counter >> 16, (counter >> 8) & 255, counter & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
  return {
    id,
    mac,
    dev: `tap${id.slice(0, 11)}`,
    fixed: opts.fixed ?? [`10.${(counter >> 8) & 255}.${counter & 255}.5`, `fd00::${counter.toString(16)}:5`],
    floating: opts.floating ?? [],
  };
}

/** nova's network_info for these VIFs (the fields nova-ipmeta reads, plus a few it ignores). */
export function networkInfo(vifs: readonly TestVif[]): string {
  return JSON.stringify(
    vifs.map((v) => ({
      id: v.id,
      address: v.mac,
      devname: v.dev,
      type: 'ovs',
      active: true,
      network: {
        id: randomUUID(),
        label: 'private',
        subnets: v.fixed.map((address, i) => ({
          cidr: address.includes(':') ? 'fd00::/64' : '10.0.0.0/8',
          ips: [
            {
              address,
              type: 'fixed',
              version: address.includes(':') ? 6 : 4,
              floating_ips: i === 0 ? v.floating.map((f) => ({ address: f, type: 'floating', version: 4 })) : [],
            },
          ],
        })),
      },
    })),
  );
}

/** A nova:instance element as nova writes it; `ports` given means nova (>= 23) wrote fixed IPs itself. */
export function novaInstance(opts: { ns: string; name: string; projectId?: string; novaPorts?: readonly TestVif[] }): string {
  const ports =
    opts.novaPorts === undefined
      ? ''
      : `<nova:ports>${opts.novaPorts
          .map(
            (v) =>
              `<nova:port uuid="${v.id}">${v.fixed
                .map((a) => `<nova:ip type="fixed" address="${a}" ipVersion="${a.includes(':') ? 6 : 4}"/>`)
                .join('')}</nova:port>`,
          )
          .join('')}</nova:ports>`;
  return `<nova:instance xmlns:nova="${opts.ns}">
      <nova:package version="26.2.2"/>
      <nova:name>${opts.name}</nova:name>
      <nova:creationTime>2026-10-11 17:02:31</nova:creationTime>
      <nova:flavor name="m1.tiny"><nova:memory>64</nova:memory><nova:disk>0</nova:disk><nova:swap>0</nova:swap><nova:ephemeral>0</nova:ephemeral><nova:vcpus>1</nova:vcpus></nova:flavor>
      <nova:owner><nova:user uuid="3472c2a6de914fb5b61842bc781ef670">bob</nova:user><nova:project uuid="${opts.projectId ?? 'f241e906010e4917ae8153f4fb8aa021'}">data</nova:project></nova:owner>
      <nova:root type="image" uuid="fe55c69a-8b2e-4bbc-811a-9ad2023a0426"/>
      ${ports}
    </nova:instance>`;
}

/** `cache put` of these VIFs' network_info for an instance, through `run` (a bundle runner with the test's --state-dir). */
export function cachePut(run: (...args: string[]) => { code: number; stderr: string }, uuid: string, vifs: readonly TestVif[], dir: string): void {
  const file = join(dir, `in-${uuid}.json`);
  writeFileSync(file, networkInfo(vifs));
  const r = run('cache', 'put', uuid, file);
  rmSync(file);
  if (r.code !== 0) throw new Error(`cache put ${uuid} exited ${r.code}: ${r.stderr}`);
}
