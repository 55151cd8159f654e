/**
 * reconcile against a real private libvirt daemon with QEMU guests: running and stopped guests,
 * both namespaces, nova-written ports, foreign metadata, a non-nova domain, odd names, 30 guests.
 * What is checked is what libvirt holds afterwards (dumpxml) and the events it sends, not the
 * tool's own word.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../../support/libvirt';
import { runBundle } from '../../support/cli';
import { cachePut as putCache, makeVif, novaInstance, NS_1_0, NS_1_1, type TestVif } from '../../support/nova-guest';
import { expectedPorts, portsOf } from '../../support/ports-of';
import { elementMeaning } from '../../support/canonical-dom';
import { parseDomain } from '../../../src/core/domain';
import { childElements } from '../../../src/core/xml-document';

interface Guest {
  name: string;
  uuid: string;
  vifs: TestVif[];
}

const FOREIGN = '<acme:billing xmlns:acme="https://example.com/xmlns/acme/1"><acme:tier>gold</acme:tier></acme:billing>';

const t = suite('reconcile on a real daemon');
let d: PrivateLibvirt;
let state: string;

const cli = (...args: string[]) => runBundle([...args, '--connect', d.uri, '--state-dir', state]);
const cachePut = (g: Guest) => {
  putCache(cli, g.uuid, g.vifs, state);
};

async function define(g: Guest, metadata: string, start: boolean): Promise<void> {
  const file = join(d.root, `${g.uuid}.xml`);
  writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: g.vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata }));
  await d.virshOk('define', file);
  if (start) await d.virshOk('start', g.uuid);
}

const guest = (name: string, n = 2): Guest => ({ name, uuid: randomUUID(), vifs: Array.from({ length: n }, () => makeVif()) });
const live = (g: Guest) => d.virshOk('dumpxml', g.uuid);
const config = (g: Guest) => d.virshOk('dumpxml', '--inactive', g.uuid);

// Guests shared by the tests below, in the states the issue asks for.
const preWallaby = guest('instance-00000001');
const wallaby = guest('instance-00000002');
const stopped = guest('instance-00000003', 1);
const noCache = guest('instance-00000004', 1);
const odd = guest(`odd name 'q' "dq" ;# $(touch x) \\ é`, 1);
const notNova = guest('build-runner', 1);
/** A cache file for an instance this host does not have: reported, never guessed at. */
const ghost = guest('ghost', 1);
preWallaby.vifs[0]?.floating.push('203.0.113.10');
wallaby.vifs[1]?.floating.push('203.0.113.20');

t.before(async () => {
  d = await startPrivateLibvirt();
  cleanupOnExit(d);
  state = mkdtempSync(join(tmpdir(), 'nova-ipmeta-state-'));
  await define(preWallaby, novaInstance({ ns: NS_1_0, name: 'web-1' }), true);
  await define(wallaby, novaInstance({ ns: NS_1_1, name: 'db-1', novaPorts: wallaby.vifs.slice(0, 1) }) + FOREIGN, true);
  await define(stopped, novaInstance({ ns: NS_1_1, name: 'stopped-1' }), false);
  await define(noCache, novaInstance({ ns: NS_1_1, name: 'nocache-1' }), false);
  await define(odd, novaInstance({ ns: NS_1_1, name: 'odd' }), false);
  await define(notNova, '', true);
  for (const g of [preWallaby, wallaby, stopped, odd, ghost]) cachePut(g);
});

t.after(async () => {
  await d.stop();
  rmSync(state, { recursive: true, force: true });
});

t('the first run fills every nova domain, running ones on both definitions', async () => {
  const notNovaBefore = [await live(notNova), await config(notNova)];
  const r = cli('reconcile', '--json');
  assert.is(r.code, 0, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout) as { domains: { domain: string; kind: string }[]; orphanCaches: string[] };
  const kind = (g: Guest) => report.domains.find((o) => o.domain === g.name)?.kind;
  assert.equal(report.orphanCaches, [ghost.uuid]);
  assert.is(report.domains.length, 6, 'the ghost is no domain');
  assert.is(kind(preWallaby), 'repaired');
  assert.is(kind(wallaby), 'repaired');
  assert.is(kind(stopped), 'repaired');
  assert.is(kind(odd), 'repaired');
  assert.is(kind(noCache), 'no-cache');
  assert.is(kind(notNova), 'not-nova');
  for (const g of [preWallaby, wallaby]) {
    assert.equal(portsOf(await live(g)), expectedPorts(g.vifs), `${g.name} live`);
    assert.equal(portsOf(await config(g)), expectedPorts(g.vifs), `${g.name} config`);
  }
  assert.equal(portsOf(await config(stopped)), expectedPorts(stopped.vifs));
  assert.equal(portsOf(await config(odd)), expectedPorts(odd.vifs));
  assert.is(portsOf(await config(noCache)), null, 'a domain without cache is not guessed at');
  assert.equal([await live(notNova), await config(notNova)], notNovaBefore, 'a non-nova domain is untouched');
  const foreign = await d.virshOk('metadata', wallaby.uuid, '--uri', 'https://example.com/xmlns/acme/1');
  assert.match(foreign, /<tier>gold<\/tier>|:tier>gold</);
  const nova10 = await d.virshOk('metadata', preWallaby.uuid, '--uri', NS_1_0);
  assert.match(nova10, /web-1/, 'the rest of the nova element is kept');
});

t('a second run writes nothing: no metadata-change event, XML unchanged', async () => {
  const before = await Promise.all([preWallaby, wallaby].map(live));
  const events = spawn('virsh', ['-c', d.uri, 'event', '--all', '--loop'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  events.stdout.on('data', (b: Buffer) => (seen += b.toString()));
  await new Promise((r) => setTimeout(r, 500));
  // A marker write proves the event stream is live: the run's own writes would show the same way.
  await d.virshOk('metadata', notNova.uuid, '--uri', 'https://example.com/marker', '--key', 'm', '--set', '<m/>', '--live');
  const r = cli('reconcile', '--json');
  await d.virshOk('metadata', notNova.uuid, '--uri', 'https://example.com/marker', '--key', 'm', '--set', '<m2/>', '--live');
  const deadline = Date.now() + 5000;
  while ((seen.match(/metadata-change/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  events.kill();
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { summary: Record<string, number> };
  assert.is(report.summary.repaired, 0);
  assert.is(report.summary['in-sync'], 4);
  const changes = seen.split('\n').filter((l) => l.includes('metadata-change'));
  assert.is(changes.length, 2, `only the two marker writes: ${changes.join(' | ')}`);
  assert.ok(changes.every((l) => l.includes(notNova.name)));
  assert.equal(await Promise.all([preWallaby, wallaby].map(live)), before);
});

t('a nova-style overwrite (fixed IPs only, live only) is repaired; --dry-run and --check report it first', async () => {
  const fixedOnly = novaInstance({ ns: NS_1_1, name: 'db-1', novaPorts: wallaby.vifs }).replace(/nova:/g, '').replace(/ xmlns:nova="[^"]*"/, '');
  await d.virshOk('metadata', wallaby.uuid, '--uri', NS_1_1, '--key', 'nova', '--set', fixedOnly.replace(/\n/g, ' '), '--live');
  const check = cli('reconcile', '--check', '--domain', wallaby.name);
  assert.is(check.code, 1, check.stderr);
  assert.match(check.stdout, /^NOVA-IPMETA WARNING - 1 of 1 instances drifted \| in_sync=0 drifted=1;0;;0;1 no_cache=0 errors=0 not_nova=0 orphan_caches=0 duration=[\d.]+s\n$/);
  const dry = cli('reconcile', '--dry-run', '--domain', wallaby.name);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would-repair/);
  assert.ok(portsOf(await live(wallaby))?.every((p) => !p.includes('floating')));
  const r = cli('reconcile', '--domain', wallaby.uuid, '--json');
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { domains: { kind: string; changes: Record<string, unknown> }[] };
  assert.is(report.domains[0]?.kind, 'repaired');
  assert.equal(Object.keys(report.domains[0]?.changes ?? {}), ['live'], 'the persistent definition was right already');
  assert.equal(portsOf(await live(wallaby)), expectedPorts(wallaby.vifs));
  assert.match(await d.virshOk('metadata', wallaby.uuid, '--uri', 'https://example.com/xmlns/acme/1'), /gold/);
});

t('textfile metrics: outcomes and one ip_info series per address', () => {
  const prom = join(state, 'nova-ipmeta.prom');
  const r = cli('reconcile', '--textfile', prom);
  assert.is(r.code, 0, r.stderr);
  const text = readFileSync(prom, 'utf8');
  assert.match(text, /^nova_ipmeta_reconcile_domains\{outcome="in-sync"\} 4$/m);
  assert.match(text, /^nova_ipmeta_reconcile_domains\{outcome="no-cache"\} 1$/m);
  assert.match(text, new RegExp(`instance_id="${preWallaby.uuid}",.*address="203.0.113.10",type="floating",ip_version="4"`));
  assert.match(text, /^nova_ipmeta_reconcile_last_success_timestamp_seconds \d+$/m);
  assert.match(text, /^nova_ipmeta_reconcile_success 1$/m);
  assert.match(text, /^nova_ipmeta_cache_orphans 1$/m);
  assert.match(text, /^nova_ipmeta_cache_age_seconds \d+$/m);
  assert.not.match(text, /nova_ipmeta_sync_/, 'no sync in this run');
});

/** The textfile's samples, by series. */
function samples(prom: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(prom, 'utf8').split('\n')) {
    const i = line.lastIndexOf(' ');
    if (line.startsWith('nova_')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

t('every run writes its metrics: libvirt down, the lock busy, the sync failed; a last success never moves on a failure', async () => {
  const prom = join(state, 'failures.prom');
  assert.is(cli('reconcile', '--textfile', prom).code, 0);
  const good = samples(prom);
  const lastSuccess = good.get('nova_ipmeta_reconcile_last_success_timestamp_seconds');
  assert.ok(lastSuccess);
  await new Promise((r) => setTimeout(r, 1100));

  const down = runBundle(['reconcile', '--textfile', prom, '--connect', 'qemu:///system?socket=/nonexistent', '--state-dir', state]);
  assert.is(down.code, 3, down.stderr);
  let m = samples(prom);
  assert.is(m.get('nova_ipmeta_reconcile_success'), '0');
  assert.is(m.get('nova_ipmeta_reconcile_last_success_timestamp_seconds'), lastSuccess);
  assert.ok(Number(m.get('nova_ipmeta_reconcile_last_run_timestamp_seconds')) > Number(lastSuccess), 'the failed run is dated');
  assert.not.ok([...m.keys()].some((k) => k.startsWith('nova_ipmeta_reconcile_domains{') || k.startsWith('nova_ipmeta_instance_ip_info')), 'no outcome, no address is guessed');

  const holder = spawn('flock', [join(state, 'reconcile.lock'), 'sleep', '60'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const busy = cli('reconcile', '--textfile', prom, '--wait', '0');
    assert.is(busy.code, 3, busy.stderr);
    assert.match(busy.stderr, /another reconcile holds the lock/);
    m = samples(prom);
    assert.is(m.get('nova_ipmeta_reconcile_success'), '0');
    assert.is(m.get('nova_ipmeta_reconcile_last_success_timestamp_seconds'), lastSuccess);
  } finally {
    holder.kill();
  }

  // No credentials anywhere: the sync fails, the domains are still reconciled, exit 3.
  writeFileSync(join(state, 'empty.conf'), '');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  const noSync = runBundle(['reconcile', '--sync', '--textfile', prom, '--connect', d.uri, '--state-dir', state, '--config', join(state, 'empty.conf')], { env: { ...env, HOME: state } });
  assert.is(noSync.code, 3, noSync.stderr);
  m = samples(prom);
  assert.is(m.get('nova_ipmeta_sync_success'), '0');
  assert.not.ok(m.has('nova_ipmeta_sync_last_success_timestamp_seconds'), 'no sync ever succeeded');
  assert.is(m.get('nova_ipmeta_reconcile_success'), '1');
  assert.ok(Number(m.get('nova_ipmeta_reconcile_last_success_timestamp_seconds')) > Number(lastSuccess), 'the reconcile itself succeeded');
  assert.is(m.get('nova_ipmeta_reconcile_domains{outcome="in-sync"}'), '4');
});

t('a check writes nothing: no metrics, no record', () => {
  const record = join(state, 'last-run.json');
  const before = readFileSync(record, 'utf8');
  const r = cli('reconcile', '--check');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(readFileSync(record, 'utf8'), before);
});

t('an unknown --domain is not found (exit 1), and names it', () => {
  const r = cli('reconcile', '--domain', 'no-such-domain');
  assert.is(r.code, 1);
  assert.match(r.stderr, /no-such-domain/);
});

/** nova's element without its <ports>, node for node, by namespace URI: what a write must leave as it was. */
function novaOutsidePorts(xml: string): string[] {
  const el = parseDomain(xml, 'dumpxml').nova?.element;
  if (!el) return [];
  for (const p of childElements(el, el.namespaceURI, 'ports')) el.removeChild(p);
  return elementMeaning(el);
}

/** A running guest with this nova element (ports aside), its cache, reconciled alone; undefined afterwards. */
async function withOddGuest(name: string, novaInner: string, body: (g: Guest) => Promise<void>): Promise<void> {
  const g = guest(name, 1);
  await define(g, `<nova:instance xmlns:nova="${NS_1_1}"><nova:name>${name}</nova:name>${novaInner}</nova:instance>`, true);
  cachePut(g);
  try {
    await body(g);
  } finally {
    await d.virsh('destroy', g.uuid);
    await d.virshOk('undefine', g.uuid);
  }
}

t("nova's element with other namespaces, prefixed attributes, comments, PIs, CDATA and TABs: the ports written, the rest held exactly", async () => {
  const inner = [
    '<nova:owner><nova:user uuid="u1">bob\tthe\tbuilder</nova:user><nova:project uuid="p1">tab\there</nova:project></nova:owner>',
    '<x:ports xmlns:x="urn:example:x"><x:port uuid="not-ours"/></x:ports>',
    '<flavor xmlns="urn:example:d"><nova:memory>64</nova:memory></flavor>',
    '<nova:root xmlns:a="urn:example:a" xmlns:z="urn:example:z" a:type="image" type="image" z:k="1" xml:lang="en" nova:odd="&#9;"/>',
    '<!-- a comment --><?app some data?>',
    '<nova:note><![CDATA[<raw> & text]]>\u0085\u007f &#13;</nova:note>',
  ].join('');
  await withOddGuest('instance-odd-carried', inner, async (g) => {
    const before = [novaOutsidePorts(await live(g)), novaOutsidePorts(await config(g))];
    assert.ok(before[0]?.some((l) => l.includes('{urn:example:x}ports')), 'the foreign <x:ports> is there to keep');
    const r = cli('reconcile', '--domain', g.uuid, '--json');
    assert.is(r.code, 0, r.stderr + r.stdout);
    assert.is((JSON.parse(r.stdout) as { domains: { kind: string }[] }).domains[0]?.kind, 'repaired');
    assert.equal(portsOf(await live(g)), expectedPorts(g.vifs));
    assert.equal(portsOf(await config(g)), expectedPorts(g.vifs));
    assert.equal([novaOutsidePorts(await live(g)), novaOutsidePorts(await config(g))], before, 'nothing else in the element changed');
    assert.match(await live(g), '<nova:user uuid="u1">bob\tthe\tbuilder</nova:user>');
    const again = cli('reconcile', '--domain', g.uuid, '--json');
    assert.is((JSON.parse(again.stdout) as { domains: { kind: string }[] }).domains[0]?.kind, 'in-sync');
  });
});

t('what virsh metadata cannot carry unchanged is refused per domain: error naming why, exit 3, nothing written', async () => {
  const cases: [string, string, RegExp][] = [
    ['instance-odd-plain', '<plain>no namespace</plain>', /<plain> has no namespace, and libvirt would put it in nova's/],
    ['instance-odd-comment', '<!-- two\nlines -->', /a comment in <nova:instance> holds U\+000A/],
    ['instance-odd-cdata', '<nova:note><![CDATA[tab\there]]></nova:note>', /a CDATA section in <nova:note> holds U\+0009/],
    ['instance-odd-pi', '<?app line\nbreak?>', /processing instruction <\?app\?> in <nova:instance> holds U\+000A/],
  ];
  for (const [name, inner, why] of cases) {
    await withOddGuest(name, inner, async (g) => {
      const before = [await live(g), await config(g)];
      const r = cli('reconcile', '--domain', g.uuid, '--domain', wallaby.uuid, '--json');
      assert.is(r.code, 3, `${name}: ${r.stderr}`);
      const report = JSON.parse(r.stdout) as { domains: { domain: string; kind: string; reason?: string }[] };
      const mine = report.domains.find((o) => o.domain === name);
      assert.is(mine?.kind, 'error', name);
      assert.match(mine?.reason ?? '', why, name);
      assert.match(mine?.reason ?? '', `${name} (live): nova's element cannot be written through virsh metadata unchanged`);
      assert.is(report.domains.find((o) => o.domain === wallaby.name)?.kind, 'in-sync', 'the other domain of the run is reconciled');
      assert.equal([await live(g), await config(g)], before, `${name}: nothing written`);
    });
  }
});

t('30 guests at once', async () => {
  const many = Array.from({ length: 30 }, (_, i) => guest(`instance-1000${String(i).padStart(4, '0')}`, 1));
  for (const g of many) {
    await define(g, novaInstance({ ns: NS_1_1, name: g.name }), true);
    cachePut(g);
  }
  const r = cli('reconcile', '--json');
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { summary: Record<string, number> };
  assert.is(report.summary.repaired, 30);
  for (const g of many) assert.equal(portsOf(await live(g)), expectedPorts(g.vifs), g.name);
  for (const g of many) await d.virsh('destroy', g.uuid);
});

t.run();
