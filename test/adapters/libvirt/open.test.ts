/** Which URIs go over libvirt's socket (src/adapters/libvirt/open.ts): the local system daemon's only. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { localSocket } from '../../../src/adapters/libvirt/open';
import { inVirshOrder, type DomainRef } from '../../../src/adapters/libvirt/libvirt';
import { parseUuid } from '../../../src/core/model';

test('a private socket given in the URI is used when it is there, and only for the system URI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-open-'));
  try {
    const sock = join(dir, 'libvirt-sock');
    writeFileSync(sock, '');
    const none = () => undefined;
    assert.is(localSocket(`qemu:///system?socket=${sock}`, none), sock);
    assert.is(localSocket(`qemu+unix:///system?socket=${encodeURIComponent(sock)}`, none), sock);
    assert.is(localSocket(`qemu:///system?socket=${join(dir, 'missing')}`, none), undefined);
    assert.is(localSocket(`qemu:///system?socket=relative/sock`, none), undefined);
    assert.is(localSocket(`qemu:///system?socket=%E0%A4%A`, none), undefined, 'malformed: virsh says what is wrong');
    for (const uri of ['qemu:///session', 'qemu+ssh://host/system', 'qemu+tls://host/system', 'test:///default', `qemu:///system?socket=${sock}&mode=direct`, 'xen:///system']) {
      assert.is(localSocket(uri, none), undefined, uri);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("no URI: virsh's default, unless libvirt.conf sets uri_default", () => {
  assert.is(localSocket(undefined, () => 'uri_default = "qemu+ssh://elsewhere/system"\n'), undefined);
  // A commented-out default changes nothing: then the local daemon's socket, when there is one.
  const commented = localSocket(undefined, () => '#uri_default = "qemu:///system"\n');
  assert.ok(commented === undefined || commented.startsWith('/run/libvirt/'));
});

test("virsh's listing order: running by ID, then the rest by name, ASCII case ignored, by UTF-8 bytes", () => {
  const ref = (name: string, id?: number): DomainRef => ({ uuid: parseUuid('6695eb01-f6a4-8304-79aa-97f2502e193f') as never, name, active: id !== undefined, ...(id === undefined ? {} : { id }) });
  const sorted = inVirshOrder([ref('b'), ref('run-2', 2), ref('Zeta'), ref('alpha'), ref('名前'), ref('🚀'), ref('run-1', 1), ref('Beta')]).map((r) => r.name);
  assert.equal(sorted, ['run-1', 'run-2', 'alpha', 'b', 'Beta', 'Zeta', '名前', '🚀']);
});

test.run();
