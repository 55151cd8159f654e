/**
 * libvirt's files tied to the listing (src/adapters/current-domain-files.ts), on files made here
 * in libvirt's shapes: a persistent `<domain>` and a `<domstatus>` around the running `<domain id=...>`.
 * The same against a real daemon: test/usecases/reconcile/reconcile-files.libvirt.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matchListing, readDomainFiles, type CurrentFiles, type ListedDomain } from '../../src/adapters/current-domain-files';
import { parseUuid, type Uuid } from '../../src/core/model';

function uuid(s: string): Uuid {
  const u = parseUuid(s);
  if (!u) throw new Error(s);
  return u;
}
const RUNNING: ListedDomain = { uuid: uuid('6695eb01-f6a4-8304-79aa-97f2502e193f'), name: 'instance-00000001', active: true, id: 7 };
const STOPPED: ListedDomain = { uuid: uuid('11111111-2222-3333-4444-555555555555'), name: 'instance-00000002', active: false };

const domainXml = (d: ListedDomain, id?: number) =>
  `<domain type='qemu'${id === undefined ? '' : ` id='${id}'`}>\n  <name>${d.name}</name>\n  <uuid>${d.uuid}</uuid>\n  <metadata/>\n</domain>\n`;
const statusXml = (d: ListedDomain, id: number) =>
  `<!--\nWARNING\n-->\n<domstatus state='running' reason='booted' pid='42'>\n  <monitor path='/x' type='unix'/>\n  ${domainXml(d, id)}</domstatus>\n`;

function withDirs(fn: (dirs: { live: string; persistent: string }) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'current-files-'));
  const dirs = { live: join(root, 'run'), persistent: join(root, 'etc') };
  mkdirSync(dirs.live);
  mkdirSync(dirs.persistent);
  mkdirSync(join(dirs.persistent, 'autostart'));
  writeFileSync(join(dirs.live, 'driver.pid'), '1');
  writeFileSync(join(dirs.persistent, `${RUNNING.name}.xml`), domainXml(RUNNING));
  writeFileSync(join(dirs.persistent, `${STOPPED.name}.xml`), domainXml(STOPPED));
  writeFileSync(join(dirs.live, `${RUNNING.name}.xml`), statusXml(RUNNING, 7));
  try {
    fn(dirs);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function current(dirs: { live: string; persistent: string }, refs: readonly ListedDomain[] = [RUNNING, STOPPED]): Extract<CurrentFiles, { kind: 'current' }> {
  const m = matchListing(readDomainFiles(dirs), refs);
  if (m.kind !== 'current') throw new Error(m.problem);
  return m;
}

test('each listed domain gets the definitions its files hold: live and persistent when it runs', () => {
  withDirs((dirs) => {
    const m = current(dirs);
    const running = m.of(RUNNING);
    assert.is(running?.live?.uuid, RUNNING.uuid);
    assert.is(running?.live?.element.getAttribute('id'), '7');
    assert.is(running?.persistent?.uuid, RUNNING.uuid);
    const stopped = m.of(STOPPED);
    assert.is(stopped?.live, undefined);
    assert.is(stopped?.persistent?.name, STOPPED.name);
  });
});

test("a status file of another run of the guest (its ID), or no ID listed, is not the guest's current one", () => {
  withDirs((dirs) => {
    assert.is(current(dirs, [{ ...RUNNING, id: 8 }, STOPPED]).of({ ...RUNNING, id: 8 }), undefined);
    const noId = { uuid: RUNNING.uuid, name: RUNNING.name, active: true };
    assert.is(current(dirs, [noId, STOPPED]).of(noId), undefined);
  });
});

test('a torn, foreign, linked or mismatched file leaves that domain to libvirt, the others not', () => {
  for (const spoil of [
    (dirs: { persistent: string }) => {
      writeFileSync(join(dirs.persistent, `${STOPPED.name}.xml`), domainXml(STOPPED).slice(0, 60));
    },
    (dirs: { persistent: string }) => {
      writeFileSync(join(dirs.persistent, `${STOPPED.name}.xml`), domainXml({ ...STOPPED, uuid: RUNNING.uuid }));
    },
    (dirs: { persistent: string }) => {
      writeFileSync(join(dirs.persistent, `${STOPPED.name}.xml`), domainXml(STOPPED, 3));
    },
    (dirs: { persistent: string }) => {
      writeFileSync(join(dirs.persistent, 'elsewhere'), domainXml(STOPPED));
      rmSync(join(dirs.persistent, `${STOPPED.name}.xml`));
      symlinkSync(join(dirs.persistent, 'elsewhere'), join(dirs.persistent, `${STOPPED.name}.xml`));
    },
    (dirs: { persistent: string }) => {
      rmSync(join(dirs.persistent, `${STOPPED.name}.xml`));
    },
  ]) {
    withDirs((dirs) => {
      spoil(dirs);
      const m = current(dirs);
      assert.is(m.of(STOPPED), undefined);
      assert.ok(m.of(RUNNING)?.live);
    });
  }
});

test('a running guest without a persistent file (transient) is left to libvirt', () => {
  withDirs((dirs) => {
    rmSync(join(dirs.persistent, `${RUNNING.name}.xml`));
    assert.is(current(dirs).of(RUNNING), undefined);
  });
});

test('a file of a domain libvirt does not list, or lists as inactive: none of the files is used', () => {
  withDirs((dirs) => {
    writeFileSync(join(dirs.persistent, 'instance-0000ffff.xml'), domainXml({ ...STOPPED, name: 'instance-0000ffff' }));
    const m = matchListing(readDomainFiles(dirs), [RUNNING, STOPPED]);
    assert.is(m.kind, 'not-current');
    assert.match(m.kind === 'not-current' ? m.problem : '', /instance-0000ffff\.xml is not a file of a domain libvirt lists$/);
  });
  withDirs((dirs) => {
    const m = matchListing(readDomainFiles(dirs), [{ ...RUNNING, active: false, id: undefined }, STOPPED]);
    assert.match(m.kind === 'not-current' ? m.problem : '', /instance-00000001\.xml is not a file of a domain libvirt lists as active/);
  });
});

test('a directory that cannot be listed: not current, saying which', () => {
  withDirs((dirs) => {
    const m = matchListing(readDomainFiles({ ...dirs, live: join(dirs.live, 'missing') }), [RUNNING, STOPPED]);
    assert.match(m.kind === 'not-current' ? m.problem : '', /cannot list .*missing \(ENOENT\)/);
  });
});

test.run();
