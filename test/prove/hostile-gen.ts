/**
 * Hostile inputs, as bytes: valid network_info and domain XML first, then mutated the ways an
 * attacker, a bug upstream or a bad disk would: wrong types, broken UTF-8, huge values, deep
 * nesting, XML metacharacters, duplicate ports or addresses, a port on two VIFs, truncation.
 * Each case carries the names of the mutations applied, for the counts in the evidence.
 */
import * as fc from 'fast-check';
import { NOVA_NS } from '../../src/core/nova-namespace';

export interface HostileCase {
  readonly bytes: Buffer;
  readonly mutations: readonly string[];
}

interface GenVif {
  id: string;
  mac: string;
  fixed: string[];
  floating: string[];
}

const hex2 = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0'));
const mac = fc
  .tuple(hex2, hex2, hex2, fc.boolean())
  .map(([a, b, c, upper]) => (upper ? `FA:16:3E:${a}:${b}:${c}`.toUpperCase() : `fa:16:3e:${a}:${b}:${c}`));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const ipv6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((g) => g.map((n) => n.toString(16)).join(':'));
const address = fc.oneof(ipv4, ipv6);

const vif: fc.Arbitrary<GenVif> = fc.record({
  id: fc.uuid({ version: 4 }),
  mac,
  fixed: fc.uniqueArray(address, { minLength: 0, maxLength: 3 }),
  floating: fc.uniqueArray(ipv4, { minLength: 0, maxLength: 2 }),
});

const vifs = fc.uniqueArray(vif, { minLength: 0, maxLength: 4, selector: (v) => v.id }).map((list) => {
  // MACs unique too (a duplicate is a mutation of its own, below)
  const seen = new Set<string>();
  return list.filter((v) => !seen.has(v.mac.toLowerCase()) && seen.add(v.mac.toLowerCase()));
});

function networkInfoValue(list: readonly GenVif[]): unknown[] {
  return list.map((v) => ({
    id: v.id,
    address: v.mac,
    devname: `tap${v.id.slice(0, 11)}`,
    type: 'ovs',
    active: true,
    meta: {},
    network: {
      id: '2f6c3b1e-8a1d-4f3e-9c55-0d1e6a7b8c90',
      label: 'private',
      bridge: 'br-int',
      subnets: v.fixed.map((a, i) => ({
        cidr: a.includes(':') ? 'fd00::/64' : '10.0.0.0/8',
        ips: [
          {
            address: a,
            type: 'fixed',
            version: a.includes(':') ? 6 : 4,
            meta: {},
            floating_ips: i === 0 ? v.floating.map((f) => ({ address: f, type: 'floating', version: 4, meta: {} })) : [],
          },
        ],
      })),
    },
  }));
}

// --- JSON mutations --------------------------------------------------------------------------

type Json = unknown;
type Path = (string | number)[];

function paths(value: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

function getAt(root: Json, p: Path): Json {
  let v: unknown = root;
  for (const k of p) v = (v as Record<string | number, unknown>)[k];
  return v;
}

function setAt(root: Json, p: Path, value: Json): Json {
  if (p.length === 0) return value;
  const parent = getAt(root, p.slice(0, -1)) as Record<string | number, unknown>;
  parent[p[p.length - 1] as string | number] = value;
  return root;
}

/** Text spliced into the serialized JSON where a sentinel string stands (things JSON.stringify cannot make). */
const RAW: Record<string, (n: number) => string> = {
  deepArray: (n) => `${'['.repeat(n)}0${']'.repeat(n)}`,
  deepObject: (n) => `${'{"a":'.repeat(n)}0${'}'.repeat(n)}`,
  hugeNumber: (n) => ['1e999', '-1e999', '123456789012345678901234567890123', '-0', '1e-400', '0.' + '9'.repeat(n % 5000)][n % 6] ?? '0',
  dupKey: () => '{"id":"567a4527-b0e4-4d0a-bcc2-71fda37897f7","id":"0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"}',
};

const wrongValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, '', [], {}, [[]], { 0: 1 }),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.constantFrom('<![CDATA[x]]>', '</nova:ports><x/>', `a"b'c<d>&e;`, '&lt;&#0;&#xD800;', ']]>', '\u0000\u0001\u001f', '\ud800', '\u2028\u2029\ufeff', '../../etc/passwd', '-', '--help'),
  fc.constantFrom('__proto__', 'constructor', 'toString').map((k) => ({ [k]: 1 })),
  fc.integer({ min: 1, max: 6 }).map((n) => `@@RAW:deepArray:${[10, 1000, 100_000, 1_000_000, 50, 5000][n - 1]}@@`),
  fc.integer({ min: 1, max: 4 }).map((n) => `@@RAW:deepObject:${[10, 1000, 100_000, 200_000][n - 1]}@@`),
  fc.nat(6).map((n) => `@@RAW:hugeNumber:${n}@@`),
  fc.constant('@@RAW:dupKey:0@@'),
  fc.integer({ min: 1, max: 3 }).map((n) => 'x'.repeat([10_000, 300_000, 1_100_000][n - 1] ?? 1)),
);

type JsonMutation = (root: Json, pick: number, value: Json) => { root: Json; name: string };

const jsonMutations: JsonMutation[] = [
  // wrong type / hostile value anywhere
  (root, pick, value) => {
    const all = paths(root);
    return { root: setAt(root, all[pick % all.length] ?? [], value), name: 'wrong-type' };
  },
  // a key deleted
  (root, pick) => {
    const all = paths(root).filter((p) => typeof p[p.length - 1] === 'string');
    const p = all[pick % Math.max(all.length, 1)];
    if (!p) return { root, name: 'none' };
    Reflect.deleteProperty(getAt(root, p.slice(0, -1)) as object, p[p.length - 1] as string);
    return { root, name: 'key-deleted' };
  },
  // an array element duplicated: a duplicate port, subnet, address or floating IP
  (root, pick) => {
    const arrays = paths(root).filter((p) => Array.isArray(getAt(root, p)) && (getAt(root, p) as unknown[]).length > 0);
    const p = arrays[pick % Math.max(arrays.length, 1)];
    if (!p) return { root, name: 'none' };
    const arr = getAt(root, p) as unknown[];
    arr.splice(pick % arr.length, 0, structuredClone(arr[pick % arr.length]));
    return { root, name: 'duplicate-element' };
  },
  // a port on two VIFs: the same port id (or the same MAC) on a second VIF with other addresses
  (root, pick) => {
    if (!Array.isArray(root) || root.length === 0) return { root, name: 'none' };
    const original: unknown = root[pick % root.length];
    if (original === null || typeof original !== 'object' || Array.isArray(original)) return { root, name: 'none' };
    const copy = structuredClone(original) as Record<string, unknown>;
    if (pick % 2) copy['address'] = `fa:16:3e:ff:${(pick % 256).toString(16).padStart(2, '0')}:01`;
    else copy['id'] = 'deadbeef-0000-4000-8000-000000000001';
    root.push(copy);
    return { root, name: pick % 2 ? 'port-on-two-vifs' : 'mac-on-two-vifs' };
  },
  // an address shared by two ports
  (root) => {
    if (!Array.isArray(root) || root.length < 2) return { root, name: 'none' };
    const a = JSON.stringify(root[0]).match(/"address":"(\d+\.\d+\.\d+\.\d+|[0-9a-f:]+:[0-9a-f:]+)"/)?.[1];
    const text = JSON.stringify(root[1]).replace(/("ips":\[\{"address":")[^"]*"/, `$1${a ?? '10.0.0.1'}"`);
    try {
      root[1] = JSON.parse(text) as Json;
    } catch {
      return { root, name: 'none' }; // an earlier mutation put an escaped quote there
    }
    return { root, name: 'address-on-two-ports' };
  },
];

// --- byte mutations ----------------------------------------------------------------------------

const BAD_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc3], // a lead byte alone
  [0xe2, 0x82], // a truncated 3-byte sequence
  [0xc0, 0xaf], // overlong '/'
  [0xe0, 0x80, 0xbc], // overlong '<'
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0x80],
  [0xef, 0xbb, 0xbf], // a BOM (valid UTF-8, hostile placement)
  [0x00],
];

type ByteMutation = (b: Buffer, pick: number) => { bytes: Buffer; name: string };

const byteMutations: ByteMutation[] = [
  (b, pick) => {
    const at = pick % (b.length + 1);
    const bad = BAD_UTF8[pick % BAD_UTF8.length] ?? [0xff];
    return { bytes: Buffer.concat([b.subarray(0, at), Buffer.from(bad), b.subarray(at)]), name: 'broken-utf8' };
  },
  (b, pick) => ({ bytes: b.subarray(0, pick % (b.length + 1)), name: 'truncated' }),
  (b, pick) => {
    // a multi-byte character cut in half: find one, cut inside it
    const i = b.findIndex((x) => x >= 0xc2 && x <= 0xf4); // a lead byte
    if (i < 0) return { bytes: Buffer.concat([b, Buffer.from([0xe2, 0x82])]), name: 'broken-utf8' };
    return { bytes: Buffer.concat([b.subarray(0, i + 1), b.subarray(i + 2 + (pick % 2))]), name: 'broken-utf8' };
  },
];

function applyRaw(text: string): string {
  return text.replace(/"@@RAW:(\w+):(\d+)@@"/g, (_m, kind: string, n: string) => RAW[kind]?.(Number(n)) ?? 'null');
}

/** A valid network_info document, its VIFs, and (mostly) one to three mutations of it. */
export const hostileNetworkInfo: fc.Arbitrary<HostileCase & { vifs: GenVif[] }> = fc
  .record({
    vifs,
    steps: fc.array(fc.tuple(fc.nat(jsonMutations.length - 1), fc.nat(), wrongValue), { minLength: 0, maxLength: 3 }),
    bytes: fc.option(fc.tuple(fc.nat(byteMutations.length - 1), fc.nat()), { freq: 4 }),
    unicodeLabel: fc.option(fc.string({ unit: 'grapheme', maxLength: 8 }), { freq: 2 }),
  })
  .map(({ vifs: list, steps, bytes, unicodeLabel }) => {
    let root: Json = networkInfoValue(list);
    if (unicodeLabel !== null && Array.isArray(root) && root[0]) ((root[0] as Record<string, Record<string, unknown>>)['network'] ?? {})['label'] = `é${unicodeLabel}`;
    const mutations: string[] = [];
    for (const [which, pick, value] of steps) {
      const m = jsonMutations[which] as JsonMutation;
      const r = m(root, pick, structuredClone(value));
      root = r.root;
      if (r.name !== 'none') mutations.push(r.name === 'wrong-type' && typeof value === 'string' && value.startsWith('@@RAW:') ? `raw-${value.split(':')[1] ?? ''}` : r.name);
    }
    let buf: Buffer = Buffer.from(applyRaw(JSON.stringify(root)));
    if (bytes) {
      const r = (byteMutations[bytes[0]] as ByteMutation)(buf, bytes[1]);
      buf = r.bytes;
      mutations.push(r.name);
    }
    return { bytes: buf, mutations: mutations.length ? mutations : ['valid'], vifs: list };
  });

// --- domain XML --------------------------------------------------------------------------------

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const xmlMutations: ((xml: string, pick: number, text: string) => { xml: string; name: string })[] = [
  // metacharacters, escaped, in names, text and attributes: must survive byte-meaningfully
  (xml, _p, text) => ({ xml: xml.replace('<nova:name>', `<nova:name>${esc(text)}`).replace('<acme:tier>', `<acme:tier x="${esc(text)}">`), name: 'xml-metachars' }),
  // unescaped metacharacters: malformed
  (xml, pick) => {
    const at = pick % (xml.length + 1);
    return { xml: xml.slice(0, at) + (['<', '&', '&bogus;', ']]>', '<!--', '"', '</x>'][pick % 7] ?? '<') + xml.slice(at), name: 'raw-metachar' };
  },
  // CDATA, comments and processing instructions inside the nova element and the foreign metadata
  (xml) => ({ xml: xml.replace('<nova:package', '<!-- c --><![CDATA[<nova:ports/>]]><?pi x?><nova:package'), name: 'cdata-comment-pi' }),
  // deep nesting in foreign metadata and inside the nova element
  (xml, pick) => {
    const n = [100, 2000, 20_000, 200_000][pick % 4] ?? 100;
    const deep = `${'<acme:d>'.repeat(n)}x${'</acme:d>'.repeat(n)}`;
    return { xml: pick % 2 ? xml.replace('<acme:tier>', `<acme:tier>${deep}`) : xml.replace('<nova:package', `<nova:extra xmlns:acme="https://example.com/a">${deep}</nova:extra><nova:package`), name: `deep-${n}` };
  },
  // a DOCTYPE with entities (billion laughs)
  (xml) => ({ xml: `<!DOCTYPE domain [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n${xml.replace('<nova:name>', '<nova:name>&b;')}`, name: 'doctype-entities' }),
  // the same MAC on two interfaces
  (xml) => ({ xml: xml.replace(/(<interface type='ethernet'>[\s\S]*?<\/interface>)/, '$1$1'), name: 'mac-on-two-interfaces' }),
  // a second nova element of the same namespace, and one of the other
  (xml, pick) => {
    const m = /<nova:instance[\s\S]*?<\/nova:instance>/.exec(xml)?.[0] ?? '';
    const other = pick % 2 ? (m.includes(NOVA_NS.v1_1) ? m.replace(NOVA_NS.v1_1, NOVA_NS.v1_0) : m.replace(NOVA_NS.v1_0, NOVA_NS.v1_1)) : m;
    return { xml: xml.replace(m, m + other), name: pick % 2 ? 'both-namespaces' : 'two-nova-elements' };
  },
  // hostile existing ports
  (xml, pick) => {
    const bad = [
      '<nova:ports><nova:port><nova:ip type="fixed" address="x"/></nova:port></nova:ports>',
      '<nova:ports><nova:port uuid="567a4527-b0e4-4d0a-bcc2-71fda37897f7"><nova:port uuid="1"/></nova:port></nova:ports>',
      '<nova:ports>text<nova:ports/></nova:ports><nova:ports/>',
      '<nova:ports><nova:port uuid="567a4527-b0e4-4d0a-bcc2-71fda37897f7"><nova:ip type="fixed" address="999.1.1.1" ipVersion="4"/></nova:port></nova:ports>',
    ];
    return { xml: xml.replace('</nova:instance>', `${bad[pick % bad.length] ?? ''}</nova:instance>`), name: 'hostile-existing-ports' };
  },
  // wrong or missing values in interfaces and uuid
  (xml, pick) => {
    const swaps: [RegExp, string][] = [
      [/<mac address='[^']*'\/>/, "<mac address='zz:zz'/>"],
      [/<mac address='[^']*'\/>/, ''],
      [/<uuid>[^<]*<\/uuid>/, '<uuid>not-a-uuid</uuid>'],
      [/<uuid>[^<]*<\/uuid>/, ''],
      [/<name>[^<]*<\/name>/, `<name>${'n'.repeat(100_000)}</name>`],
      [/<target dev='[^']*'/, `<target dev='${'t'.repeat(1_000_000)}'`],
    ];
    const [re, to] = swaps[pick % swaps.length] ?? [/x^/, ''];
    return { xml: xml.replace(re, to), name: 'bad-interface-or-uuid' };
  },
  // the live form
  (xml) => ({ xml: `<domstatus state='running' reason='booted' pid='1'>\n${xml}</domstatus>\n`, name: 'domstatus' }),
];

const metaText = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(`<]]>&"'`, '&amp;lt;', '\u0085\u2028', 'é中文𝄞', 'a\r\nb\rc'));

function domainXml(list: readonly GenVif[], onDomain: readonly boolean[], ns: string, existing: readonly GenVif[]): string {
  const ifaces = list
    .filter((_, i) => onDomain[i])
    .map((v) => `    <interface type='ethernet'>\n      <mac address='${v.mac}'/>\n      <target dev='tap${v.id.slice(0, 11)}' managed='yes'/>\n    </interface>`);
  const ports = existing.length
    ? `<nova:ports>${existing.map((v) => `<nova:port uuid="${v.id}">${v.fixed.map((a) => `<nova:ip type="fixed" address="${a}" ipVersion="${a.includes(':') ? 6 : 4}"/>`).join('')}</nova:port>`).join('')}</nova:ports>`
    : '';
  return `<domain type='kvm'>
  <name>instance-0000002b</name>
  <uuid>0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5</uuid>
  <metadata>
    <nova:instance xmlns:nova="${ns}">
      <nova:package version="26.2.2"/>
      <nova:name>db-1</nova:name>
      <nova:owner><nova:user uuid="3472c2a6-de91-4fb5-b618-42bc781ef670">bob</nova:user></nova:owner>
      ${ports}
    </nova:instance>
    <acme:billing xmlns:acme="https://example.com/xmlns/acme/1"><acme:tier>gold</acme:tier></acme:billing>
  </metadata>
  <memory unit='KiB'>65536</memory>
  <devices>
${ifaces.join('\n')}
  </devices>
</domain>
`;
}

/** A domain XML for some of the VIFs, then (mostly) one to three mutations of it. */
export const hostileDomain = (list: readonly GenVif[]): fc.Arbitrary<HostileCase> =>
  fc
    .record({
      onDomain: fc.array(fc.boolean(), { minLength: list.length, maxLength: list.length }),
      ns: fc.constantFrom(NOVA_NS.v1_1, NOVA_NS.v1_0),
      existing: fc.subarray([...list]),
      steps: fc.array(fc.tuple(fc.nat(xmlMutations.length - 1), fc.nat(), metaText), { minLength: 0, maxLength: 3 }),
      bytes: fc.option(fc.tuple(fc.nat(byteMutations.length - 1), fc.nat()), { freq: 5 }),
    })
    .map(({ onDomain, ns, existing, steps, bytes }) => {
      let xml = domainXml(list, onDomain, ns, existing);
      const mutations: string[] = [];
      for (const [which, pick, text] of steps) {
        const r = (xmlMutations[which] as (typeof xmlMutations)[number])(xml, pick, text);
        xml = r.xml;
        mutations.push(r.name);
      }
      let buf: Buffer = Buffer.from(xml);
      if (bytes) {
        const r = (byteMutations[bytes[0]] as ByteMutation)(buf, bytes[1]);
        buf = r.bytes;
        mutations.push(r.name);
      }
      return { bytes: buf, mutations: mutations.length ? mutations : ['valid'] };
    });

/** A network_info case and a domain case built on the same VIFs (so that valid ones meet). */
export const hostilePair: fc.Arbitrary<{ info: HostileCase; domain: HostileCase }> = hostileNetworkInfo.chain((info) =>
  hostileDomain(info.vifs).map((domain) => ({ info, domain })),
);
