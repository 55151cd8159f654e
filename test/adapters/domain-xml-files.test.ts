/**
 * The read commands' scan of libvirt's XML directories (adapters/domain-xml-files.ts): a plain
 * file is read without a DOM (core/lean-xml.ts), which costs a fraction of xmldom's parse, and a
 * file the lean reader gives up on goes to the DOM; both give the same domain.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addressRows } from '../../src/core/address-rows';
import { parseDomainFile, scanDomainXmlDirs } from '../../src/adapters/domain-xml-files';
import { FindIndex } from '../../src/adapters/find-index';

// As libvirt writes it: libvirt keeps no comment inside the root element (the fixture has one).
const wallaby = readFileSync(new URL('../fixtures/domains/wallaby-nova-ports.xml', import.meta.url), 'utf8').replace(/\n *<!--.*-->/, '');
const root = mkdtempSync(join(tmpdir(), 'domain-xml-files-'));
const live = join(root, 'live');
const persistent = join(root, 'persistent');
mkdirSync(live);
mkdirSync(persistent);

/** What the read commands print of a domain: its identity, interfaces and address rows. */
const facts = (d: ReturnType<typeof scanDomainXmlDirs>['domains'][number]['domain']) => ({
  name: d.name,
  uuid: d.uuid,
  interfaces: d.interfaces,
  displayName: d.nova?.displayName,
  projectId: d.nova?.projectId,
  rows: addressRows(d),
});
const isXmldom = (doc: unknown) => doc instanceof new DOMParser().parseFromString('<a/>', 'text/xml').constructor;

test('a plain file is read without a DOM; one with a CDATA section inside goes to the DOM; both read alike', () => {
  writeFileSync(join(persistent, 'plain.xml'), wallaby);
  // The lean reader gives up on CDATA; the DOM reads the same domain.
  const withCdata = wallaby.replace('<nova:package version="26.2.2"/>', '<nova:package version="26.2.2"/><nova:note><![CDATA[x]]></nova:note>').replace('instance-0000002b', 'instance-0000002c').replace('8091a2b3c4d5', '8091a2b3c4d6');
  writeFileSync(join(persistent, 'cdata.xml'), withCdata);
  const scan = scanDomainXmlDirs({ live, persistent });
  assert.equal(scan.skipped, []);
  const [cdata, plain] = scan.domains;
  assert.ok(plain && cdata);
  assert.is(plain.domain.name, 'instance-0000002b');
  // The scan's reading, as parseDomainFile gives it: lean for the plain file, the DOM for the other.
  const leanPlain = parseDomainFile(Buffer.from(wallaby), 'plain.xml', 'lean');
  const leanCdata = parseDomainFile(Buffer.from(withCdata), 'cdata.xml', 'lean');
  assert.ok(leanPlain.kind === 'domain' && leanCdata.kind === 'domain');
  assert.not.ok(isXmldom(leanPlain.domain.doc), 'the plain file is read without a DOM');
  assert.ok(isXmldom(leanCdata.domain.doc), 'the CDATA file is read by the DOM');
  // What the scan keeps of each is its facts, nothing of the document either was read from.
  for (const { domain } of scan.domains) {
    assert.equal(Object.keys(domain).sort(), ['interfaces', 'name', 'nova', 'uuid']);
    assert.equal(Object.keys(domain.nova ?? {}).sort(), ['displayName', 'namespace', 'ports', 'projectId']);
  }
  assert.equal(facts(plain.domain), facts(leanPlain.domain));
  assert.equal(facts(cdata.domain), facts(leanCdata.domain));
  const dom = parseDomainFile(Buffer.from(wallaby), 'plain.xml');
  assert.is(dom.kind, 'domain');
  if (dom.kind !== 'domain') return;
  assert.ok(isXmldom(dom.domain.doc), 'parseDomainFile reads through the DOM unless asked');
  assert.equal(facts(plain.domain), facts(dom.domain));
  // The same instance under another name and UUID.
  const anonymous = (f: ReturnType<typeof facts>) => ({ ...f, name: '', uuid: '', rows: f.rows.map((r) => ({ ...r, domain: '', instanceId: '' })) });
  assert.equal(anonymous(facts(cdata.domain)), anonymous(facts(dom.domain)));
});

test('a file the lean reader takes but readDomain refuses is reported as the DOM reports it', () => {
  rmSync(persistent, { recursive: true });
  mkdirSync(persistent);
  writeFileSync(join(persistent, 'no-uuid.xml'), wallaby.replace(/<uuid>[^<]*<\/uuid>/, '<uuid>nope</uuid>'));
  const scan = scanDomainXmlDirs({ live, persistent });
  assert.equal(scan.domains, []);
  assert.equal(scan.skipped, [{ path: join(persistent, 'no-uuid.xml'), problem: '<uuid> "nope" is not a UUID' }]);
});

test.after(() => {
  rmSync(root, { recursive: true, force: true });
});
test("through find's index: a file indexed as holding the word is read and returned whatever the caller's filter says", () => {
  const dirs = { live: join(root, 'indexed-live'), persistent: join(root, 'indexed-persistent') };
  const state = join(root, 'state');
  for (const d of [dirs.live, dirs.persistent]) mkdirSync(d);
  mkdirSync(state, { mode: 0o700 });
  writeFileSync(join(dirs.persistent, 'instance-0000002b.xml'), wallaby);
  const key = 'a 192.168.1.1';
  const later = { build: 'b1', nowMs: () => Date.now() + 10_000 };
  const scanWith = (mayMatch: (bytes: Buffer) => boolean) => {
    const index = FindIndex.load(state, dirs, key, later);
    if (!index) throw new Error('no index');
    const scan = scanDomainXmlDirs(dirs, { mayMatch, index });
    index.save(state, true);
    return scan.domains.map((d) => d.domain.name);
  };
  assert.equal(scanWith(() => true), ['instance-0000002b'], 'learned');
  // Indexed now: the index's word decides, and the file is read for what it holds.
  assert.equal(scanWith(() => false), ['instance-0000002b']);
});

test.run();
