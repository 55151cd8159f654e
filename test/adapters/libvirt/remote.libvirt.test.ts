/**
 * libvirt's RPC over the daemon's own socket (src/adapters/libvirt/rpc), against a real private
 * daemon, each answer compared with what virsh gives for the same call: odd names, running and
 * stopped guests, both definitions written, the errors the reconcile flow tells apart, a daemon
 * restarted between two calls. A daemon that never answers, or answers garbage, cannot be made
 * of a real one: a small socket server stands in for those two.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { libvirtFailure, TransientDomains, type DomainRef } from '../../../src/adapters/libvirt/libvirt';
import { openLibvirt } from '../../../src/adapters/libvirt/open';
import { LibvirtCallError } from '../../../src/adapters/libvirt/rpc/connection';
import { RemoteLibvirt } from '../../../src/adapters/libvirt/rpc/remote';
import { VirshLibvirt } from '../../../src/adapters/virsh/virsh-libvirt';
import { VirshError } from '../../../src/adapters/virsh/virsh-error';
import { parseUuid, type Uuid } from '../../../src/core/model';
import { parseXml } from '../../../src/core/xml-document';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../../support/libvirt';

const NS = 'http://openstack.org/xmlns/libvirt/nova/1.1';
const ODD_NAMES = ['with space', "it's", 'say "hi"', 'semi;colon', 'ünïcödé 名前 🚀', '-leading', '--domain=x', 'Zeta', 'alpha', 'Beta'];

const t = suite('libvirt RPC on a real private daemon');
let d: PrivateLibvirt;
let socket: string;

t.before(async () => {
  d = await startPrivateLibvirt();
  cleanupOnExit(d);
  socket = join(d.root, 'run', 'libvirt-sock');
});
t.after(async () => {
  await d.stop();
});

async function defineGuest(name: string, how: 'defined' | 'started' | 'created'): Promise<{ name: string; uuid: Uuid }> {
  const uuid = parseUuid(randomUUID());
  if (!uuid) throw new Error('uuid');
  const file = join(d.root, `${uuid}.xml`);
  writeFileSync(file, guestXml({ name, uuid, interfaces: [] }), { mode: 0o600 });
  if (how === 'created') await d.virshOk('create', file);
  else await d.virshOk('define', file);
  if (how === 'started') await d.virshOk('start', uuid);
  return { name, uuid };
}

async function failure(p: Promise<unknown>): Promise<LibvirtCallError> {
  return failureOf(p, LibvirtCallError);
}

async function failureOf<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    if (err instanceof type) return err;
    throw new Error(`expected a ${type.name}, got ${String(err)}`);
  }
  throw new Error(`expected a ${type.name}, got success`);
}

t('openLibvirt takes the socket for the local system URI, virsh for any other', async () => {
  const local = await openLibvirt({ uri: d.uri, client: 'auto' });
  const forced = await openLibvirt({ uri: d.uri, client: 'virsh' });
  const other = await openLibvirt({ uri: 'test:///default', client: 'auto' });
  try {
    assert.instance(local, RemoteLibvirt);
    assert.instance(forced, VirshLibvirt);
    assert.instance(other, VirshLibvirt);
  } finally {
    await Promise.all([local.close(), forced.close(), other.close()]);
  }
});

t('the listing, every XML and every write are what virsh gives and makes, odd names included', async () => {
  const guests = [];
  for (const name of ODD_NAMES) guests.push(await defineGuest(name, 'defined'));
  const running = await defineGuest("running 'odd' guest ;# $(x)", 'started');
  const rpc = new RemoteLibvirt({ socket, name: 'qemu:///system', timeoutMs: 30_000 });
  const virsh = new VirshLibvirt({ uri: d.uri });
  try {
    const listed = await rpc.listDomains();
    assert.is(rpc.calls, 1, 'the listing is one call');
    assert.equal(listed, await virsh.listDomains(), "the same domains in virsh's order");
    for (const g of [...guests, running]) {
      const ref = listed.find((r) => r.uuid === g.uuid) as DomainRef;
      assert.is(ref.name, g.name);
      assert.is(ref.active, g === running);
      for (const inactive of ref.active ? [false, true] : [true]) {
        assert.is(await rpc.dumpXml(ref, { inactive }), await virsh.dumpXml(ref, { inactive }), `${g.name}: dumpxml${inactive ? ' --inactive' : ''}`);
      }
      const payload = `<instance><name>${g.name.replaceAll('&', '&amp;').replaceAll('<', '&lt;')}</name><note a="x&#10;y">two\nlines</note></instance>`;
      await rpc.setNovaMetadata(ref, NS, payload, { live: ref.active, persistent: true });
      // What the daemon holds: what `virsh metadata --set` makes of the same payload, byte for byte.
      const dumps = async () => Promise.all([d.virshOk('dumpxml', '--inactive', g.uuid), ...(ref.active ? [d.virshOk('dumpxml', g.uuid)] : [])]);
      const viaRpc = await dumps();
      const el = parseXml(viaRpc[0], 'dumpxml').getElementsByTagNameNS(NS, 'instance')[0];
      assert.is(el?.getElementsByTagNameNS(NS, 'name')[0]?.textContent, g.name);
      assert.is(el?.getElementsByTagNameNS(NS, 'note')[0]?.getAttribute('a'), 'x\ny');
      assert.is(el?.getElementsByTagNameNS(NS, 'note')[0]?.textContent, 'two\nlines');
      await d.virshOk('metadata', '--domain', g.uuid, '--uri', NS, '--key', 'other', '--set', '<x/>', '--config', ...(ref.active ? ['--live'] : []));
      await d.virshOk('metadata', '--domain', g.uuid, '--uri', NS, '--key', 'nova', '--set', payload, '--config', ...(ref.active ? ['--live'] : []));
      assert.equal(await dumps(), viaRpc);
    }
    assert.is(rpc.calls, 1 + guests.length * 2 + 3, 'one call per XML and per write');
  } finally {
    await Promise.all([rpc.close(), virsh.close()]);
  }
});

t('a domain gone since the listing, and a transient guest, are told apart: over the socket and through virsh', async () => {
  const gone = await defineGuest('gone-meanwhile', 'defined');
  const transient = await defineGuest('transient-guest', 'created');
  const rpc = new RemoteLibvirt({ socket, name: 'qemu:///system', timeoutMs: 30_000 });
  const virsh = new VirshLibvirt({ uri: d.uri });
  try {
    const listed = await rpc.listDomains();
    const goneRef = listed.find((r) => r.uuid === gone.uuid) as DomainRef;
    const transientRef = listed.find((r) => r.uuid === transient.uuid) as DomainRef;
    await d.virshOk('undefine', gone.uuid);
    const e = await failure(rpc.dumpXml(goneRef, { inactive: true }));
    assert.is(libvirtFailure(e), 'no-domain', e.message);
    assert.match(e.message, /^libvirt DomainGetXMLDesc gone-meanwhile: /);
    const viaVirsh = await failureOf(virsh.dumpXml(goneRef, { inactive: true }), VirshError);
    assert.is(libvirtFailure(viaVirsh), 'no-domain', viaVirsh.message);
    const refusedViaVirsh = await failureOf(virsh.setNovaMetadata(transientRef, NS, '<instance/>', { live: false, persistent: true }), VirshError);
    assert.is(libvirtFailure(refusedViaVirsh), 'transient-refusal', refusedViaVirsh.message);
    assert.is(libvirtFailure(new Error('domain not found')), 'other', 'not a libvirt call');
    assert.ok(await new TransientDomains(rpc).has(transient.uuid));
    assert.not.ok(await new TransientDomains(rpc).has(listed.find((r) => r.name === 'alpha')?.uuid ?? transient.uuid));
    const refused = await failure(rpc.setNovaMetadata(transientRef, NS, '<instance/>', { live: false, persistent: true }));
    assert.is(libvirtFailure(refused), 'transient-refusal', refused.message);
    // The same flow goes on over the same connection after the failures.
    assert.match(await rpc.dumpXml(transientRef, { inactive: false }), '<name>transient-guest</name>');
  } finally {
    await Promise.all([rpc.close(), virsh.close()]);
    await d.virsh('destroy', transient.uuid);
  }
});

t('the daemon restarted between two calls: the next call connects again', async () => {
  const g = await defineGuest('restart-rpc', 'defined');
  const rpc = new RemoteLibvirt({ socket, name: 'qemu:///system', timeoutMs: 30_000 });
  try {
    const ref = (await rpc.listDomains()).find((r) => r.uuid === g.uuid) as DomainRef;
    await d.restart();
    // The first call may meet the old connection closing; the one after it works.
    let xml: string | undefined;
    for (let i = 0; i < 2 && xml === undefined; i++) xml = await rpc.dumpXml(ref, { inactive: true }).catch(() => undefined);
    assert.match(xml ?? '', '<name>restart-rpc</name>');
  } finally {
    await rpc.close();
  }
});

const f = suite('libvirt RPC against a daemon that misbehaves (a stand-in socket server)');
let dir: string;
f.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-rpc-'));
});
f.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function serve(onData: (s: Socket, data: Buffer) => void): Promise<{ path: string; server: Server; sockets: Socket[] }> {
  const path = join(dir, 'sock');
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (data) => {
      onData(s, data);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, server, sockets };
}

async function shut(s: { server: Server; sockets: Socket[] }): Promise<void> {
  for (const x of s.sockets) x.destroy();
  await new Promise((resolve) => s.server.close(resolve));
}

f('a daemon that never answers: the call fails as timed out within its time, in one line', async () => {
  const s = await serve(() => undefined);
  const rpc = new RemoteLibvirt({ socket: s.path, name: 'qemu:///system', timeoutMs: 300 });
  try {
    const started = Date.now();
    const e = await failure(rpc.listDomains());
    assert.ok(e.timedOut);
    assert.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);
    assert.not.match(e.message, /\n/);
    assert.match(e.message, /no answer within 300 ms/);
  } finally {
    await rpc.close();
    await shut(s);
  }
});

f('a reply that is not libvirt RPC: the call fails clearly and the connection is dropped', async () => {
  const s = await serve((sock) => sock.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')));
  const rpc = new RemoteLibvirt({ socket: s.path, name: 'qemu:///system', timeoutMs: 5_000 });
  try {
    const e = await failure(rpc.listDomains());
    assert.not.ok(e.timedOut);
    assert.match(e.message, /is not libvirt's/);
  } finally {
    await rpc.close();
    await shut(s);
  }
});

f('an error reply cut short: the call fails, and with it the connection, rather than never', async () => {
  // Every call answered with status ERROR and a remote_error holding its code alone.
  const s = await serve((sock, data) => {
    const serial = data.readUInt32BE(4 + 4 * 4);
    const reply = Buffer.alloc(4 + 6 * 4 + 4);
    const words = [reply.length, 0x20008086, 1, data.readInt32BE(4 + 2 * 4), 1, serial, 1, 1];
    for (const [i, v] of words.entries()) reply.writeUInt32BE(v >>> 0, i * 4);
    sock.write(reply);
  });
  const rpc = new RemoteLibvirt({ socket: s.path, name: 'qemu:///system', timeoutMs: 60_000 });
  try {
    const pending = new Promise<'pending'>((resolve) => {
      setTimeout(() => {
        resolve('pending');
      }, 5_000);
    });
    const settled = await Promise.race([failure(rpc.listDomains()), pending]);
    assert.ok(settled !== 'pending', 'the call never settled');
    assert.not.ok(settled.timedOut);
    assert.match(settled.message, /^libvirt /);
  } finally {
    // A close that waits on the unsettled call would hang this test rather than fail it.
    await Promise.race([rpc.close(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
    await shut(s);
  }
});

f('no daemon at the socket: a clear failure naming it', async () => {
  const rpc = new RemoteLibvirt({ socket: join(dir, 'none'), name: 'qemu:///system', timeoutMs: 5_000 });
  const e = await failure(rpc.listDomains());
  assert.match(e.message, /cannot connect \(ENOENT\)/);
  assert.match(e.message, /none/);
  await rpc.close();
});

t.run();
f.run();
