/**
 * Property-based tests: random valid network_info documents (random UUIDs and MACs in any case,
 * IPv4 and IPv6 in varied spellings, floating IPs, empty networks) and random domain XML carrying
 * a nova element (either namespace, any prefix, other children, comments, foreign metadata,
 * current ports fresh, stale or hostile, interfaces for some of the VIFs with MACs in random case).
 *
 * The seed is random and printed; FC_SEED=<n> replays a run, FC_RUNS=<n> changes the run count.
 */
import * as fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredPorts } from '../../src/core/desired';
import { parseDomain, type DomainFacts } from '../../src/core/domain';
import { matchDomain, parseTerm, searchKeys, termKey, type Term } from '../../src/core/lookup';
import { injectPorts } from '../../src/core/inject';
import { parseIp } from '../../src/core/ip';
import { parseMac, parseUuid, type Mac, type Port, type Uuid } from '../../src/core/model';
import { parseNetworkInfo } from '../../src/core/network-info';
import { NOVA_NS, type NovaNamespace } from '../../src/core/nova-namespace';
import { readPortsElement } from '../../src/core/ports-xml';
import { renderPorts } from '../../src/core/render';
import { parseXml, serializeXml } from '../../src/core/xml-document';
import { outsidePorts } from '../support/canonical-dom';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`fast-check seed ${SEED} (FC_SEED=${SEED} replays it), ${RUNS} runs per property`);
fc.configureGlobal({ seed: SEED, numRuns: RUNS });

// --- addresses ---------------------------------------------------------------------------------

interface Address {
  /** As the cache spells it. */
  readonly text: string;
  /** What nova-ipmeta must write, worked out independently of src/core/ip.ts. */
  readonly canonical: string;
  readonly version: 4 | 6;
}

const byte = fc.integer({ min: 0, max: 255 });
const dotted = (b: readonly number[]) => b.join('.');

const ipv4: fc.Arbitrary<Address> = fc.array(byte, { minLength: 4, maxLength: 4 }).map((b) => ({ text: dotted(b), canonical: dotted(b), version: 4 }));

/** RFC 5952 text by an independent implementation: the WHATWG URL parser's IPv6 serializer. */
function oracleIpv6(groups: readonly number[]): string {
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `::ffff:${dotted([hi >> 8, hi & 255, lo >> 8, lo & 255])}`;
  }
  return new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(1, -1);
}

/** Eight groups, zeros frequent so that "::" runs, ties and single zeros all occur. */
const groups = fc.oneof(
  {
    arbitrary: fc.array(fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 0xffff }), weight: 2 }), { minLength: 8, maxLength: 8 }),
    weight: 6,
  },
  // IPv4-mapped (::ffff:a.b.c.d), which keeps its dotted tail
  { arbitrary: fc.array(byte, { minLength: 4, maxLength: 4 }).map((b) => [0, 0, 0, 0, 0, 0xffff, ((b[0] ?? 0) << 8) | (b[1] ?? 0), ((b[2] ?? 0) << 8) | (b[3] ?? 0)]), weight: 1 },
);

/** One of the many ways to write those groups: case, leading zeros, which zero run "::" takes, an IPv4 tail. */
const ipv6: fc.Arbitrary<Address> = groups.chain((g) =>
  fc
    .record({
      upper: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      pad: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      run: fc.nat(),
      v4tail: fc.boolean(),
    })
    .map(({ upper, pad, run, v4tail }) => {
      const hexCount = v4tail ? 6 : 8;
      const parts = g.slice(0, hexCount).map((n, i) => {
        const h = pad[i] ? n.toString(16).padStart(4, '0') : n.toString(16);
        return upper[i] ? h.toUpperCase() : h;
      });
      const tail = v4tail ? [dotted([(g[6] ?? 0) >> 8, (g[6] ?? 0) & 255, (g[7] ?? 0) >> 8, (g[7] ?? 0) & 255])] : [];
      // every run of zero groups among the hex ones may be written as "::" (or none is)
      const runs: [number, number][] = [];
      for (let i = 0; i < hexCount; i++) {
        if (g[i] !== 0) continue;
        let j = i;
        while (j < hexCount && g[j] === 0) j++;
        for (let s = i; s < j; s++) for (let e = s + 1; e <= j; e++) runs.push([s, e]);
        i = j;
      }
      const pick = run % (runs.length + 1);
      const chosen = runs[pick];
      const text = chosen ? `${parts.slice(0, chosen[0]).join(':')}::${[...parts.slice(chosen[1]), ...tail].join(':')}` : [...parts, ...tail].join(':');
      return { text, canonical: oracleIpv6(g), version: 6 as const };
    }),
);

const address = fc.oneof(ipv4, ipv6);

test(`ip: any spelling of an address parses to its RFC 5952 text, a fixed point (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(address, (a) => {
      assert.equal(parseIp(a.text), { address: a.canonical, version: a.version }, a.text);
      assert.equal(parseIp(a.canonical), { address: a.canonical, version: a.version });
    }),
  );
});

// --- network_info ------------------------------------------------------------------------------

interface IpJson {
  readonly address: string;
  readonly type?: string;
  readonly version?: number | null;
  readonly floating_ips?: IpJson[];
}

/** An ip object as nova writes it, or with `type` and `version` left out or null. */
const ipJson = (a: Address, type: 'fixed' | 'floating'): fc.Arbitrary<IpJson> =>
  fc.record({ t: fc.constantFrom('set', 'absent', 'null'), v: fc.constantFrom('set', 'absent', 'null') }).map(({ t, v }) => ({
    address: a.text,
    ...(t === 'set' ? { type } : t === 'null' ? { type: null as unknown as string } : {}),
    ...(v === 'set' ? { version: a.version } : v === 'null' ? { version: null } : {}),
  }));

interface Fixed {
  readonly ip: Address;
  readonly floating: readonly Address[];
}

const fixedArb: fc.Arbitrary<Fixed> = fc.record({ ip: address, floating: fc.array(address, { maxLength: 2 }) });
const subnetsArb = fc.array(fc.array(fixedArb, { maxLength: 3 }), { maxLength: 3 });

interface VifCase {
  readonly id: string;
  readonly mac: string;
  /** null: `"network": null`; undefined: no subnets key. */
  readonly subnets: readonly (readonly Fixed[])[] | null | undefined;
}

/** The VIF's addresses in nova's order: fixed (subnet then IP order), then floating; unique per port. */
function expectedIps(v: VifCase): [string, string, number][] {
  const fixed = (v.subnets ?? []).flat();
  return [...fixed.map((f) => ['fixed', f.ip.canonical, f.ip.version] as [string, string, number]), ...fixed.flatMap((f) => f.floating.map((a) => ['floating', a.canonical, a.version] as [string, string, number]))];
}
/** The same addresses as `<nova:ip>` attributes, spelled as in the cache rather than canonically. */
function spelledIps(v: VifCase): [string, string, string][] {
  const fixed = (v.subnets ?? []).flat();
  return [...fixed.map((f) => ['fixed', f.ip.text, String(f.ip.version)] as [string, string, string]), ...fixed.flatMap((f) => f.floating.map((a) => ['floating', a.text, String(a.version)] as [string, string, string]))];
}
const uniqueAddresses = (v: VifCase) => new Set(expectedIps(v).map(([, a]) => a)).size === expectedIps(v).length;

const macArb = fc.array(byte, { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));

/** Up to 8 VIFs with distinct ids (distinct in their first 11 characters too) and distinct MACs. */
const vifsArb: fc.Arbitrary<VifCase[]> = fc
  .tuple(fc.uniqueArray(fc.uuid(), { maxLength: 8, selector: (u) => u.slice(0, 11) }), fc.uniqueArray(macArb, { minLength: 8, maxLength: 8 }))
  .chain(([ids, macs]) =>
    fc.tuple(
      ...ids.map((id, i) =>
        fc
          .record({
            subnets: fc.oneof({ arbitrary: subnetsArb, weight: 4 }, { arbitrary: fc.constantFrom(null, undefined), weight: 1 }),
            idUpper: fc.boolean(),
            macUpper: fc.boolean(),
          })
          .map(({ subnets, idUpper, macUpper }) => ({
            id: idUpper ? id.toUpperCase() : id,
            mac: macUpper ? (macs[i] ?? '').toUpperCase() : (macs[i] ?? ''),
            subnets,
          }))
          .filter(uniqueAddresses),
      ),
    ),
  );

/** The network_info JSON document for those VIFs, in one of nova's shapes. */
const networkInfoArb = vifsArb.chain((vifs) =>
  fc
    .tuple(
      ...vifs.map((v) => {
        const fixedList = (v.subnets ?? []).map((subnet) =>
          fc.tuple(...subnet.map((f) => fc.tuple(ipJson(f.ip, 'fixed'), fc.tuple(...f.floating.map((a) => ipJson(a, 'floating')))).map(([ip, fl]) => ({ ...ip, floating_ips: fl })))),
        );
        return fc.tuple(...fixedList).map((subnets) => ({
          id: v.id,
          address: v.mac,
          type: 'ovs',
          devname: `tap${v.id.slice(0, 11)}`,
          active: true,
          network: v.subnets === null ? null : v.subnets === undefined ? { label: 'n', meta: {} } : { label: 'n', subnets: subnets.map((ips) => ({ cidr: 'x', ips })) },
        }));
      }),
    )
    .map((json) => ({ vifs, json: JSON.stringify(json, null, vifs.length % 2 ? 1 : undefined) })),
);

const expectedPorts = (vifs: readonly VifCase[]) => vifs.map((v) => ({ id: v.id.toLowerCase(), mac: v.mac.toLowerCase(), ips: expectedIps(v) }));
const asTuples = (ports: readonly Port[]) => ports.map((p) => ({ id: p.id, ips: p.ips.map((ip) => [ip.type, ip.address, ip.version]) }));

test(`network_info: random valid documents are accepted and reduced in nova's order (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(networkInfoArb, ({ vifs, json }) => {
      const parsed = parseNetworkInfo(json, 'n');
      assert.equal(
        parsed.map((v) => ({ id: v.id, mac: v.mac, ips: v.ips.map((ip) => [ip.type, ip.address, ip.version]) })),
        expectedPorts(vifs),
      );
    }),
  );
});

test(`render: the output parses back to the VIFs, in either namespace (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(networkInfoArb, fc.constantFrom(NOVA_NS.v1_0, NOVA_NS.v1_1), ({ vifs, json }, ns) => {
      const root = parseXml(renderPorts(parseNetworkInfo(json, 'n'), ns), 'rendered').documentElement;
      assert.is(root?.namespaceURI, ns);
      assert.equal(
        root && readPortsElement(root).map((p) => ({ id: p.id, ips: p.ips.map((ip) => [ip.type, ip.address, Number(ip.version)]) })),
        expectedPorts(vifs).map(({ id, ips }) => ({ id, ips })),
      );
    }),
  );
});

// --- domain XML --------------------------------------------------------------------------------

/** Text with everything XML makes awkward: quotes, markup characters, `]]>`, tabs, CR, NEL, LS, astral. */
const nastyText = fc.string({ unit: fc.constantFrom('a', 'Z', '7', ' ', '"', "'", '<', '>', '&', ']', ']]>', '\t', '\n', '\r', '\u0085', '\u2028', 'é', '\u{1F600}'), maxLength: 12 });
const escText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
const escAttr = (s: string) => escText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
const commentText = fc.string({ unit: fc.constantFrom('a', ' ', '<', '>', '&', '"', ']]>', '\n', 'é'), maxLength: 10 });

interface Existing {
  readonly id: string;
  readonly ips: readonly (readonly [string, string, string])[];
}

/** A `<ports>` element as someone may have left it: nova's, ours, stale, or hostile. */
function portsXml(q: (local: string) => string, ports: readonly Existing[], pretty: boolean): string {
  const nl = pretty ? '\n        ' : '';
  const inner = ports
    .map((p) => {
      const ips = p.ips.map(([type, address, version]) => `<${q('ip')} type="${escAttr(type)}" address="${escAttr(address)}" ipVersion="${escAttr(version)}"/>`);
      return ips.length ? `<${q('port')} uuid="${escAttr(p.id)}">${ips.join('')}</${q('port')}>` : `<${q('port')} uuid="${escAttr(p.id)}"/>`;
    })
    .map((s) => nl + s)
    .join('');
  return ports.length || pretty ? `<${q('ports')}>${inner}${pretty ? '\n      ' : ''}</${q('ports')}>` : `<${q('ports')}/>`;
}

interface Scenario {
  readonly vifs: VifCase[];
  readonly json: string;
  readonly xml: string;
}

const existingIp = fc.oneof(
  address.map((a) => ['fixed', a.text, String(a.version)] as const),
  address.map((a) => ['floating', a.canonical, String(a.version)] as const),
  fc.tuple(fc.constantFrom('fixed', 'FIXED', ''), fc.constantFrom('10.0.0.999', 'fe80::1%eth0', '', '1.2.3.4 v4|fixed 5.6.7.8'), fc.constantFrom('4', '6', 'four')),
);

const scenarioArb: fc.Arbitrary<Scenario> = networkInfoArb.chain(({ vifs, json }) =>
  fc
    .record({
      ns: fc.constantFrom<NovaNamespace>(NOVA_NS.v1_1, NOVA_NS.v1_0),
      prefix: fc.constantFrom('nova', 'n', ''),
      pretty: fc.boolean(),
      domstatus: fc.boolean(),
      // per VIF: plugged (and how), listed in the current ports (and with which IPs)
      plug: fc.array(
        fc.record({ plugged: fc.boolean(), macCase: fc.constantFrom('lower', 'upper', 'mixed'), dev: fc.constantFrom('tap', 'vhu', 'none', 'TAP') }),
        { minLength: vifs.length, maxLength: vifs.length },
      ),
      // per VIF: not listed, listed with exactly its addresses (spelled as the cache spells them), or with others
      listed: fc.array(fc.option(fc.oneof(fc.constant('exact' as const), fc.array(existingIp, { maxLength: 3 }))), { minLength: vifs.length, maxLength: vifs.length }),
      // ports only the metadata knows: some still plugged (kept), some not (dropped)
      extra: fc.uniqueArray(fc.record({ id: fc.uuid(), ips: fc.array(existingIp, { maxLength: 2 }), plugged: fc.boolean() }), { maxLength: 3, selector: (e) => e.id.slice(0, 11) }),
      junkPorts: fc.array(fc.record({ id: fc.oneof(nastyText, fc.constant('')), ips: fc.array(existingIp, { maxLength: 2 }) }), { maxLength: 2 }),
      // a quarter of the domains already carry exactly the desired ports, spelled otherwise
      tidy: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
      portsAt: fc.option(fc.nat()),
      portsOrder: fc.nat(),
      children: fc.array(
        fc.oneof(
          nastyText.map((t) => ({ kind: 'name' as const, t })),
          commentText.map((t) => ({ kind: 'comment' as const, t })),
          nastyText.map((t) => ({ kind: 'foreign' as const, t })),
          fc.constant({ kind: 'flavor' as const, t: '' }),
        ),
        { maxLength: 5 },
      ),
      metaBefore: fc.array(nastyText, { maxLength: 2 }),
      metaAfter: fc.array(nastyText, { maxLength: 2 }),
      otherNova: fc.boolean(),
      strangers: fc.array(macArb, { maxLength: 2 }),
    })
    .map((s): Scenario => {
      const q = (local: string) => (s.prefix ? `${s.prefix}:${local}` : local);
      const decl = s.prefix ? `xmlns:${s.prefix}="${s.ns}"` : `xmlns="${s.ns}"`;
      const cased = (mac: string, how: string) =>
        how === 'upper' ? mac.toUpperCase() : how === 'mixed' ? mac.toLowerCase().replace(/[a-f]/g, (c, at: number) => (at % 2 ? c.toUpperCase() : c)) : mac.toLowerCase();
      const existing: Existing[] = [
        ...vifs.flatMap((v, i): Existing[] => {
          const ips = s.listed[i];
          return ips === 'exact' ? [{ id: v.id, ips: spelledIps(v) }] : ips ? [{ id: v.id, ips }] : [];
        }),
        ...s.extra.map((e) => ({ id: e.id, ips: e.ips })),
        ...s.junkPorts,
      ];
      // a deterministic shuffle of the listed ports
      const shuffled = existing.map((e, i) => ({ e, k: (i * 7919 + s.portsOrder) % 101 })).sort((a, b) => a.k - b.k).map((x) => x.e);
      const listed = s.tidy ? vifs.filter((_, i) => s.plug[i]?.plugged).map((v) => ({ id: v.id, ips: spelledIps(v) })) : shuffled;
      const portsAt = s.tidy ? (s.portsAt ?? 0) : s.portsAt;
      const children: string[] = s.children.map((c) => {
        switch (c.kind) {
          case 'name':
            return `<${q('name')}>${escText(c.t)}</${q('name')}>`;
          case 'comment':
            return `<!--${c.t}-->`;
          case 'foreign':
            return `<acme:tag xmlns:acme="urn:acme" acme:v="${escAttr(c.t)}">${escText(c.t)}</acme:tag>`;
          case 'flavor':
            return `<${q('flavor')} name="m1.small"><${q('memory')}>2048</${q('memory')}></${q('flavor')}>`;
        }
      });
      if (portsAt !== null) children.splice(portsAt % (children.length + 1), 0, portsXml(q, listed, s.pretty));
      const sep = s.pretty ? '\n      ' : '';
      const instance = `<${q('instance')} ${decl}>${children.map((c) => sep + c).join('')}${s.pretty ? '\n    ' : ''}</${q('instance')}>`;
      const foreign = (t: string) => `<other:meta xmlns:other="urn:other" k="${escAttr(t)}"><!--${t.replace(/-/g, '')}-->${escText(t)}</other:meta>`;
      const otherNova =
        s.otherNova && s.ns === NOVA_NS.v1_1
          ? [`<old:instance xmlns:old="${NOVA_NS.v1_0}"><old:name>old</old:name>${portsXml((l) => `old:${l}`, listed.slice(0, 1), false)}</old:instance>`]
          : [];
      const metadata = [...s.metaBefore.map(foreign), instance, ...otherNova, ...s.metaAfter.map(foreign)];
      const interfaces = [
        ...vifs.flatMap((v, i) => {
          const p = s.plug[i];
          if (!p?.plugged) return [];
          const dev = p.dev === 'none' ? undefined : `${p.dev}${v.id.slice(0, 11)}`;
          return [{ mac: cased(v.mac, p.macCase), dev }];
        }),
        ...s.extra.filter((e) => e.plugged && !s.tidy).map((e) => ({ mac: undefined, dev: `tap${e.id.slice(0, 11)}` })),
        ...s.strangers.map((mac, i) => ({ mac, dev: `vnet${i}` })),
      ];
      const ifaceXml = interfaces.map(
        (i) => `<interface type="ethernet">${i.mac ? `<mac address="${i.mac}"/>` : ''}${i.dev ? `<target dev="${i.dev}"/>` : ''}<model type="virtio"/></interface>`,
      );
      const nl = s.pretty ? '\n  ' : '';
      const domain = `<domain type="kvm">${nl}<name>instance-00000001</name>${nl}<uuid>0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5</uuid>${nl}<metadata>${metadata.map((m) => (s.pretty ? `\n    ${m}` : m)).join('')}${nl}</metadata>${nl}<devices>${ifaceXml.join('')}</devices>${s.pretty ? '\n' : ''}</domain>`;
      const xml = s.domstatus ? `<domstatus state="running" pid="1"><taint flag="x"/>${domain}<qemuCaps/></domstatus>\n` : `${domain}\n`;
      return { vifs, json, xml };
    }),
);

/** Like the `inject` command: the new document when changed, the input as it came otherwise. */
function injectText(xml: string, json: string) {
  const domain = parseDomain(xml, 'd');
  const before = { interfaces: domain.interfaces, ports: domain.nova?.ports ?? null };
  const vifs = parseNetworkInfo(json, 'n');
  const result = injectPorts(domain, vifs);
  return { result, before, vifs, out: result.kind === 'changed' ? serializeXml(domain.doc) : xml };
}

test(`inject is idempotent: its output is in sync and comes back byte for byte (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(scenarioArb, ({ xml, json }) => {
      const first = injectText(xml, json);
      assert.is.not(first.result.kind, 'not-nova');
      const second = injectText(first.out, json);
      assert.is(second.result.kind, 'in-sync');
      assert.is(second.out, first.out);
      // and a third pass from the re-serialized document agrees too
      assert.is(injectText(serializeXml(parseXml(first.out, 'x')), json).result.kind, 'in-sync');
    }),
  );
});

test(`inject changes nothing outside <nova:ports> (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(scenarioArb, ({ xml, json }) => {
      assert.equal(outsidePorts(injectText(xml, json).out), outsidePorts(xml));
    }),
  );
});

test(`the written ports are desiredPorts, and read back equal (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(scenarioArb, ({ xml, json, vifs }) => {
      const { result, before, vifs: parsed, out } = injectText(xml, json);
      if (result.kind === 'not-nova') {
        assert.unreachable('not-nova');
        return;
      }
      const desired = desiredPorts(parsed, before.interfaces, before.ports);
      assert.equal(asTuples(result.ports), asTuples(desired));
      const readBack = parseDomain(out, 'out').nova?.ports;
      assert.equal(
        readBack?.map((p) => ({ id: p.id, ips: p.ips.map((ip) => [ip.type, ip.address, Number(ip.version)]) })),
        asTuples(desired),
      );
      // every cached VIF appears exactly when one of the domain's interfaces has its MAC
      const macs = new Set(before.interfaces.map((i) => i.mac));
      const cachedIds = expectedPorts(vifs)
        .filter((v) => macs.has(v.mac as never))
        .map((v) => v.id);
      assert.equal(
        desired.map((p) => p.id as string).slice(0, cachedIds.length),
        cachedIds,
      );
    }),
  );
});


// find's index keeps, per domain file, the words searchKeys gives; a term is looked for by its
// termKey only. So every domain matchDomain matches must have that word, for every kind of term.
const pooled = <T>(...values: T[]) => fc.constantFrom(...values);
const uuidPool = ['0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5', '567a4527-b0e4-4d0a-bcc2-71fda37897f7', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'];
const macPool = ['fa:16:3e:5b:1c:09', 'fa:16:3e:c4:7e:21'];
const textPool = ['tap567a4527-b0', 'tapa3ca97e2-0c', 'web-1', 'instance-0000002b', 'a "quoted"\tname'];
const addressPool = ['192.168.1.1', '10.0.0.7', 'fdf8:f53b:82e4::52', '2001:db8::a', 'not an address'];
const domainFactsArb: fc.Arbitrary<DomainFacts> = fc.record({
  name: pooled(...textPool),
  uuid: pooled(...uuidPool.map((u) => parseUuid(u) as Uuid)),
  interfaces: fc.array(fc.record({ mac: fc.option(pooled(...macPool.map((m) => parseMac(m) as Mac)), { nil: undefined }), dev: fc.option(pooled(...textPool), { nil: undefined }) }), { maxLength: 3 }),
  nova: fc.option(
    fc.record({
      namespace: fc.constant(NOVA_NS.v1_1),
      displayName: fc.option(pooled(...textPool), { nil: undefined }),
      projectId: fc.constant(undefined),
      ports: fc.option(
        fc.array(
          fc.record({
            id: pooled(...uuidPool),
            ips: fc.array(fc.record({ type: pooled('fixed', 'floating'), address: pooled(...addressPool), version: pooled('4', '6') }), { maxLength: 3 }),
          }),
          { maxLength: 3 },
        ),
        { nil: null },
      ),
    }),
    { nil: undefined },
  ),
});
const termArb: fc.Arbitrary<Term> = fc.oneof(
  pooled(...addressPool.slice(0, 4)).map((a) => parseTerm(a, 'term')),
  pooled(...macPool, ...uuidPool, ...textPool).map((t) => parseTerm(t, 'term')),
);

test(`searchKeys: a domain matchDomain matches always has the term's key (${RUNS} runs)`, () => {
  let matched = 0;
  fc.assert(
    fc.property(domainFactsArb, termArb, (domain, term) => {
      if (matchDomain(domain, term) === undefined) return;
      matched++;
      assert.ok(searchKeys(domain).includes(termKey(term)), `${termKey(term)} not in ${JSON.stringify(searchKeys(domain))}`);
    }),
    { numRuns: RUNS * 5, seed: SEED },
  );
  // The pools are small so that terms do match: a generator that never matched would prove nothing.
  assert.ok(matched > RUNS / 2, `${matched} matches`);
});

test.run();
