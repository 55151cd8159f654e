/** Which URIs go over libvirt's socket (src/adapters/libvirt/open.ts): the local system daemon's only. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { libvirtRoute, type LibvirtRoute } from '../../../src/adapters/libvirt/open';
import { inVirshOrder, type DomainRef } from '../../../src/adapters/libvirt/libvirt';
import { parseUuid } from '../../../src/core/model';

/** The socket a route takes, or undefined for virsh. */
const socketOf = (route: LibvirtRoute) => (route.kind === 'socket' ? route.socket : undefined);
const localSocket = (uri: string | undefined, conf: () => string | undefined) => socketOf(libvirtRoute(uri, 'auto', conf));

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
    // Why virsh, as doctor says it.
    assert.equal(libvirtRoute(`qemu:///system?socket=${sock}`, 'virsh', none), { kind: 'virsh', why: '[libvirt] client = virsh' });
    assert.equal(libvirtRoute('qemu+ssh://host/system', 'auto', none), { kind: 'virsh', why: 'qemu+ssh://host/system is not the local system daemon' });
    assert.equal(libvirtRoute(`qemu:///system?socket=${join(dir, 'missing')}`, 'auto', none), { kind: 'virsh', why: `no socket at ${join(dir, 'missing')}` });
    assert.equal(libvirtRoute('qemu:///system?socket=relative/sock', 'auto', none), { kind: 'virsh', why: 'qemu:///system?socket=relative/sock: the socket is not an absolute path' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("no URI: virsh's default, unless libvirt.conf sets uri_default", () => {
  assert.equal(libvirtRoute(undefined, 'auto', () => 'uri_default = "qemu+ssh://elsewhere/system"\n'), { kind: 'virsh', why: '/etc/libvirt/libvirt.conf sets uri_default' });
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
