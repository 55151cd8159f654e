/**
 * The virsh session against a real virsh: libvirt's test:///default driver (fast; its state lives
 * in the one virsh process, which is exactly what a session keeps) and a real private daemon from
 * test/support/libvirt.ts (odd domain names through dumpxml and metadata, a daemon restarted
 * under the session).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DOMImplementation, XMLSerializer, type Element } from '@xmldom/xmldom';
import { dumpXml, listDomains, setNovaMetadata } from '../../../src/adapters/virsh/domains';
import { resolveDomain as resolveIn } from '../../../src/adapters/libvirt/libvirt';
const resolveDomain = (s: VirshSession, name: string) => resolveIn({ listDomains: () => listDomains(s) }, name);
import { MAX_ARG_BYTES } from '../../../src/adapters/virsh/quote';
import { VirshSession } from '../../../src/adapters/virsh/session';
import { VirshError } from '../../../src/adapters/virsh/virsh-error';
import { metadataPayload } from '../../../src/core/metadata-payload';
import { parseUuid, type Uuid } from '../../../src/core/model';
import { parseXml } from '../../../src/core/xml-document';
import { InputError, NotFoundError, SystemError } from '../../../src/errors';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../../support/libvirt';

const TEST_URI = 'test:///default';
const NS = 'http://openstack.org/xmlns/libvirt/nova/1.1';

/** Domain names that must survive every trip through virsh's command line. */
const ODD_NAMES = [
  'with space',
  "it's",
  'say "hi"',
  'semi;colon; list',
  '#hash',
  'back\\slash\\',
  '$(touch nova-ipmeta-pwned)',
  '`id`',
  'ünïcödé 名前 🚀',
  '-leading',
  '--double',
  '--domain=x',
  ' lead and trail ',
  '\'; echo --err injected; echo \'',
];

/** The PIDs of this process's children running `virsh`, read from /proc. */
function virshChildren(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/u.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (comm === 'virsh' && ppid === process.pid) out.push(Number(entry));
  }
  return out;
}

/** The one virsh this test's session runs, if any (one session at a time here). */
function sessionPid(): number | undefined {
  const [pid, other] = virshChildren();
  assert.is(other, undefined, 'one virsh child at most');
  return pid;
}

/** The nova element as `virsh metadata` prints it (unprefixed), or undefined when there is none. */
async function getNovaMetadata(s: VirshSession, uuid: string, uri: string, opts: { config: boolean }): Promise<string | undefined> {
  try {
    return (await s.run(['metadata', '--domain', uuid, '--uri', uri, opts.config ? '--config' : '--live'])).replace(/\n$/u, '');
  } catch (err) {
    if (err instanceof VirshError && /metadata not found/u.test(err.stderr)) return undefined;
    throw err;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `condition` until it holds (true) or for about 10 s (false); no duration is asserted. */
async function until(condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** Waits until `pid` is gone; a zombie counts as gone. */
function gone(pid: number): Promise<boolean> {
  return until(() => !alive(pid) || /\) Z /u.test(readStat(pid)));
}

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

/** The error `p` rejects with, checked to be a `kind`. */
async function failure<T extends Error>(p: Promise<unknown>, kind: abstract new (...args: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (err) {
    if (err instanceof kind) return err;
    throw new Error(`expected a ${kind.name}, got ${String(err)}`);
  }
  throw new Error(`expected a ${kind.name}, got success`);
}

function assertOneLine(err: Error): void {
  assert.not.match(err.message, /[\n\r]/u, 'one-line message');
  assert.ok(err.message.length < 700, `bounded message (${err.message.length})`);
}

/** A test-driver domain definition with this name, written through the DOM. */
function testDomainXml(name: string, uuid: string): string {
  const doc = new DOMImplementation().createDocument(null, 'domain', null);
  const root = doc.documentElement;
  if (!root) throw new Error('no root');
  root.setAttribute('type', 'test');
  const add = (parent: typeof root, tag: string, text?: string) => {
    const el = doc.createElement(tag);
    if (text !== undefined) el.appendChild(doc.createTextNode(text));
    parent.appendChild(el);
    return el;
  };
  add(root, 'name', name);
  add(root, 'uuid', uuid);
  add(root, 'memory', '1024');
  add(add(root, 'os'), 'type', 'hvm');
  return new XMLSerializer().serializeToString(doc);
}

/** A nova-like payload, built as reconcile builds it, whose text holds what quoting and the payload must carry. */
function payload(name: string): string {
  const doc = parseXml(`<nova:instance xmlns:nova="${NS}"><nova:name>${escapeText(name)}</nova:name><nova:note a="x&#10;y">line one\nline two\tthree 'q' "dq" ;# \\ $(id) &lt;&amp;&gt;</nova:note></nova:instance>`, 'payload');
  return metadataPayload(doc.documentElement as Element, 'payload');
}

function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The metadata element (virsh prints it unqualified): its children as (local name, text) pairs, and `note`'s attribute. */
function metadataContent(xml: string | undefined): unknown {
  if (xml === undefined) return undefined;
  const el = parseXml(xml, 'metadata').documentElement;
  const kids: [string | null, string | null][] = [];
  for (let n = el?.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) kids.push([n.localName, n.textContent]);
  return { root: el?.tagName, kids, a: el?.getElementsByTagName('note')[0]?.getAttribute('a') };
}

const expectedContent = (name: string) => ({
  root: 'instance',
  kids: [
    ['name', name],
    ['note', 'line one\nline two\tthree \'q\' "dq" ;# \\ $(id) <&>'],
  ],
  a: 'x\ny',
});

// ---------------------------------------------------------------------------------------------
const t = suite('virsh session on test:///default');

t('many commands in one session: one virsh process, commandsRun counts them all', async () => {
  const s = new VirshSession({ uri: TEST_URI });
  try {
    assert.is(s.stats.commands, 0);
    assert.equal(virshChildren(), [], 'nothing started before the first command');
    await s.run(['version']);
    const pid = sessionPid();
    assert.ok(pid);
    assert.equal(virshChildren(), [pid]);
    for (let i = 0; i < 150; i++) {
      assert.is(await s.run(['echo', `n${i}`]), `n${i}`);
      if (i % 50 === 0) assert.match(await s.run(['dominfo', '--domain', 'test']), /^Name:\s+test$/mu);
    }
    assert.is(s.stats.commands, 1 + 150 + 3);
    assert.is(s.stats.processes, 1);
    assert.is(sessionPid(), pid);
    assert.equal(virshChildren(), [pid], 'still one virsh child');
  } finally {
    await s.close();
  }
});

t('a failing command in the middle fails alone, with an execa-like VirshError', async () => {
  const s = new VirshSession({ uri: TEST_URI });
  try {
    assert.is(await s.run(['echo', 'before']), 'before');
    const v = await failure(s.run(['dominfo', '--domain', 'no such domain']), VirshError);
    assert.instance(v, SystemError);
    assert.equal(v.command, ['virsh', 'dominfo', '--domain', 'no such domain']);
    assert.is(v.stderr, "error: failed to get domain 'no such domain'");
    assert.is(v.exitCode, 1);
    assert.is(v.signal, undefined);
    assert.is(v.timedOut, false);
    assert.is(v.kind, 'system', 'a SystemError');
    assert.is(v.message, 'virsh dominfo --domain "no such domain": error: failed to get domain \'no such domain\'');
    assertOneLine(v);
    assert.is(await s.run(['echo', 'after']), 'after');
    // A line virsh cannot parse runs nothing, and is a failure too.
    const parse = await failure(s.run(['dominfo', '--no-such-option']), VirshError);
    assert.match(parse.stderr, "doesn't support option --no-such-option");
    // So is anything a command writes on stderr.
    const said = await failure(s.run(['echo', '--err', 'bad news']), VirshError);
    assert.is(said.stderr, 'error: bad news');
    assert.match(await s.run(['dominfo', '--domain', 'test']), /^State:\s+running$/mu);
    assert.is(s.stats.processes, 1);
  } finally {
    await s.close();
  }
});

t('output is exact: no trailing line feed added or lost, marker-like and prompt-like text kept', async () => {
  const s = new VirshSession({ uri: TEST_URI });
  try {
    assert.is(await s.run(['echo', 'no newline']), 'no newline');
    assert.is(await s.run(['echo', '']), '');
    const tricky = ['NIPM.F.0.1', 'NIPM.S.x.2', 'NIPM.E.y.3', "NIPM.F.''z.4", 'virsh # ', 'error: NIPM.F.0.5', '\\r<'];
    for (const text of tricky) assert.is(await s.run(['echo', '--', text]), text);
    const xml = await s.run(['dumpxml', '--domain', 'test']);
    assert.ok(xml.startsWith("<domain type='test'"), xml.slice(0, 40));
    assert.ok(xml.endsWith('</domain>\n'), 'dumpxml output ends as virsh prints it');
    // A table ending in a blank line, the same twice (nodeinfo: the test driver's is fixed; its
    // dominfo is not, since the guest's CPU time moves with the clock).
    const nodeinfo = await s.run(['nodeinfo']);
    assert.match(nodeinfo, /^CPU model:/u);
    assert.is(await s.run(['nodeinfo']), nodeinfo);
  } finally {
    await s.close();
  }
});

t('arguments round-trip through the real virsh tokenizer (echo --shell, parsed back)', async () => {
  const s = new VirshSession({ uri: TEST_URI });
  try {
    const args = [...ODD_NAMES, '', "'", '"', '\\', ';', '#', '\u0085\u2028\u00a0\ufeff', '\u009b[31m'];
    for (const a of args) assert.is(await s.run(['echo', '--', a]), a, JSON.stringify(a));
    // Argument boundaries: virsh quotes each argument for a shell; parse that back.
    const shellWords = (text: string): string[] => {
      const words: string[] = [];
      for (const m of text.matchAll(/(?:'[^']*'|\\'|[^\s'\\]+)+/gu)) words.push(m[0].replace(/'([^']*)'|\\(')/gu, '$1$2'));
      return words;
    };
    const noBlanks = args.filter((a) => a !== '' && !/\s/u.test(a));
    assert.equal(shellWords(await s.run(['echo', '--shell', '--', ...noBlanks])), noBlanks);
    // The largest argument allowed goes through whole.
    const big = 'é'.repeat(MAX_ARG_BYTES / 2);
    assert.is(await s.run(['echo', big]), big);
  } finally {
    await s.close();
  }
});

t('unsendable arguments are refused before anything is sent (no process even started)', async () => {
  const s = new VirshSession({ uri: TEST_URI });
  try {
    for (const bad of ['a\nb', 'a\rb', 'a\tb', 'x'.repeat(MAX_ARG_BYTES + 1)]) {
      const err = await failure(s.run(['echo', bad]), InputError);
      assertOneLine(err);
    }
    await failure(s.run(['quit']), InputError);
    await failure(s.run(['connect', 'test:///default']), InputError);
    assert.is(s.stats.commands, 0);
    assert.is(s.stats.processes, 0);
    assert.is(sessionPid(), undefined);
  } finally {
    await s.close();
  }
});

t('concurrent callers are queued: each gets its own output, in one process', async () => {
  const s = new VirshSession({ uri: TEST_URI });
  try {
    const results = await Promise.allSettled(
      Array.from({ length: 120 }, (_, i) => (i % 7 === 3 ? s.run(['dominfo', '--domain', `missing-${i}`]) : s.run(['echo', `caller ${i}`]))),
    );
    results.forEach((r, i) => {
      if (i % 7 === 3) {
        assert.is(r.status, 'rejected');
        if (r.status === 'rejected') assert.match(String((r.reason as { stderr?: unknown }).stderr), `missing-${i}'`);
      } else {
        assert.equal(r, { status: 'fulfilled', value: `caller ${i}` });
      }
    });
    assert.is(s.stats.commands, 120);
    assert.is(s.stats.processes, 1);
  } finally {
    await s.close();
  }
});

t('a command that hangs times out: virsh killed, timedOut, queued and later calls run in a new virsh', async () => {
  const s = new VirshSession({ uri: TEST_URI, commandTimeoutMs: 60_000 });
  try {
    await s.run(['echo', 'warm']);
    const first = sessionPid();
    assert.ok(first);
    const hung = s.run(['event', '--all', '--loop'], { timeoutMs: 300 });
    const queued = s.run(['echo', 'queued behind it']);
    const v = await failure(hung, VirshError);
    assert.is(v.timedOut, true);
    assert.is(v.signal, 'SIGKILL');
    assert.match(v.message, /^virsh event --all --loop: no answer within 300 ms: virsh killed/u);
    assertOneLine(v);
    assert.is(await queued, 'queued behind it');
    assert.ok(await gone(first), 'the stuck virsh is gone');
    const second: number | undefined = sessionPid();
    assert.ok(second);
    assert.is.not(second, first);
    assert.is(s.stats.processes, 2);
    // The default timeout applies when none is given per call.
    const short = new VirshSession({ uri: TEST_URI, commandTimeoutMs: 200 });
    assert.is((await failure(short.run(['event', '--all', '--loop']), VirshError)).timedOut, true);
    await short.close();
  } finally {
    await s.close();
  }
});

t('a killed virsh: the command in flight fails clearly, the next one runs in a new virsh', async () => {
  const s = new VirshSession({ uri: TEST_URI });
  try {
    await s.run(['echo', 'warm']);
    const idle = sessionPid();
    assert.ok(idle);
    process.kill(idle, 'SIGKILL');
    // Once the session has seen it die (a kill at the very moment a command is sent is the
    // in-flight case below: nobody can tell whether virsh read the command).
    assert.ok(await until(() => virshChildren().length === 0));
    assert.is(await s.run(['echo', 'after an idle kill']), 'after an idle kill');
    assert.is(s.stats.processes, 2);

    const busy = sessionPid();
    assert.ok(busy);
    const inFlight = s.run(['event', '--all', '--loop']);
    const queued = s.run(['echo', 'queued behind it']);
    // Kill while the event command waits (no timeout involved).
    setTimeout(() => process.kill(busy, 'SIGKILL'), 100);
    const v = await failure(inFlight, VirshError);
    assert.is(v.timedOut, false);
    assert.is(v.signal, 'SIGKILL');
    assert.is(v.exitCode, undefined);
    assert.match(v.message, /^virsh event --all --loop: virsh ended \(killed by SIGKILL\) before answering$/u);
    assertOneLine(v);
    assert.is(await queued, 'queued behind it');
    assert.is(await s.run(['echo', 'after an in-flight kill']), 'after an in-flight kill');
    assert.is(s.stats.processes, 3);
  } finally {
    await s.close();
  }
});

t('odd domain names round-trip through list, resolve, dumpxml and metadata', async () => {
  const s = new VirshSession({ uri: TEST_URI });
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-virsh-'));
  try {
    const uuids = new Map<string, Uuid>();
    for (const name of ODD_NAMES) {
      const uuid = parseUuid(randomUUID());
      if (!uuid) throw new Error('uuid');
      const file = join(dir, `${uuid}.xml`);
      writeFileSync(file, testDomainXml(name, uuid), { mode: 0o600 });
      await s.run(['define', '--file', file]);
      uuids.set(name, uuid);
    }
    const listed = await listDomains(s);
    for (const [name, uuid] of uuids) {
      assert.equal(
        listed.filter((d) => d.uuid === uuid),
        [{ uuid, name, active: false }],
        JSON.stringify(name),
      );
      assert.equal(await resolveDomain(s, name), { uuid, name, active: false });
      assert.equal(await resolveDomain(s, uuid.toUpperCase()), { uuid, name, active: false });
      const xml = await dumpXml(s, uuid, { inactive: true });
      assert.is(parseXml(xml, 'dumpxml').getElementsByTagName('name')[0]?.textContent, name);
      assert.is(await getNovaMetadata(s, uuid, NS, { config: true }), undefined);
      await setNovaMetadata(s, uuid, NS, payload(name), { live: false, persistent: true });
      assert.equal(metadataContent(await getNovaMetadata(s, uuid, NS, { config: true })), expectedContent(name));
    }
    assert.equal(await resolveDomain(s, 'test'), { uuid: parseUuid('6695eb01-f6a4-8304-79aa-97f2502e193f'), name: 'test', active: true, id: 1 });
    const missing = await failure(resolveDomain(s, "no such 'domain'"), NotFoundError);
    assert.is(missing.kind, 'not-found');
    assertOneLine(missing);
    assert.is(s.stats.processes, 1);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

t("the session leaves the user's interactive virsh history alone", async () => {
  const history = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'libvirt', 'virsh', 'history');
  const read = (): string | undefined => {
    try {
      return readFileSync(history, 'utf8');
    } catch {
      return undefined;
    }
  };
  const before = read();
  const unique = `history-probe-${randomUUID()}`;
  const s = new VirshSession({ uri: TEST_URI });
  assert.is(await s.run(['echo', unique]), unique);
  await s.close();
  assert.is(read(), before);
});

t('uri undefined: virsh picks LIBVIRT_DEFAULT_URI itself', async () => {
  const saved = process.env.LIBVIRT_DEFAULT_URI;
  process.env.LIBVIRT_DEFAULT_URI = TEST_URI;
  const s = new VirshSession();
  try {
    assert.is((await s.run(['uri'])).trim(), TEST_URI);
  } finally {
    await s.close();
    if (saved === undefined) delete process.env.LIBVIRT_DEFAULT_URI;
    else process.env.LIBVIRT_DEFAULT_URI = saved;
  }
});

t('virsh missing: a clear SystemError', async () => {
  const savedPath = process.env.PATH;
  process.env.PATH = mkdtempSync(join(tmpdir(), 'nova-ipmeta-empty-path-'));
  try {
    const s = new VirshSession({ uri: TEST_URI });
    const err = await failure(s.run(['version']), SystemError);
    assert.is(err.message, 'virsh not found: install libvirt-clients');
    await s.close();
  } finally {
    rmSync(process.env.PATH, { recursive: true, force: true });
    process.env.PATH = savedPath;
  }
  const named = new VirshSession({ virsh: '/nonexistent/virsh' });
  assert.is((await failure(named.run(['version']), SystemError)).message, '/nonexistent/virsh not found: install libvirt-clients');
  await named.close();
});

t('a daemon that cannot be reached: the command fails with what virsh said, on every call', async () => {
  const s = new VirshSession({ uri: 'qemu:///system?socket=/nonexistent/libvirt-sock' });
  try {
    for (let i = 0; i < 2; i++) {
      const err = await failure(s.run(['list']), VirshError);
      assert.match(err.message, 'failed to connect to the hypervisor');
      assert.match(err.message, "Failed to connect socket to '/nonexistent/libvirt-sock'");
      assert.is(err.exitCode, 1);
      assertOneLine(err);
    }
  } finally {
    await s.close();
  }
});

t('close is idempotent, ends virsh, and later calls are refused', async () => {
  const s = new VirshSession({ uri: TEST_URI });
  await s.run(['echo', 'x']);
  const pid = sessionPid();
  assert.ok(pid);
  const pending = s.run(['echo', 'queued before close']);
  await Promise.all([s.close(), s.close()]);
  assert.is(await pending, 'queued before close');
  assert.ok(await gone(pid));
  assert.is(sessionPid(), undefined);
  await s.close();
  await failure(s.run(['echo', 'late']), SystemError);
  assert.equal(virshChildren(), []);
});

t.run();

// ---------------------------------------------------------------------------------------------
const r = suite('virsh session on a real private daemon');
let d: PrivateLibvirt;

interface Defined {
  name: string;
  uuid: Uuid;
}

async function defineGuest(name: string, start: boolean): Promise<Defined> {
  const uuid = parseUuid(randomUUID());
  if (!uuid) throw new Error('uuid');
  const file = join(d.root, `${uuid}.xml`);
  writeFileSync(file, guestXml({ name, uuid, interfaces: [] }), { mode: 0o600 });
  await d.virshOk('define', file);
  if (start) await d.virshOk('start', uuid);
  return { name, uuid };
}

r.before(async () => {
  d = await startPrivateLibvirt();
  cleanupOnExit(d);
});

r.after(async () => {
  await d.stop();
});

r('odd names on a real daemon: list, resolve, dumpxml, metadata --config and --live', async () => {
  const s = new VirshSession({ uri: d.uri });
  try {
    const guests = [];
    for (const name of ODD_NAMES) guests.push(await defineGuest(name, false));
    const running = await defineGuest("running 'odd' \"guest\" ;# $(x) ü", true);
    const listed = await listDomains(s);
    assert.is(s.stats.commands, 1, 'the listing is one command');
    for (const g of [...guests, running]) {
      const active = g === running;
      const ref = listed.find((x) => x.uuid === g.uuid);
      assert.equal(ref && { uuid: ref.uuid, name: ref.name, active: ref.active }, { uuid: g.uuid, name: g.name, active });
      assert.is(ref?.id === undefined, !active, 'an ID for the running guest only');
      assert.equal(await resolveDomain(s, g.name), ref);
      const xml = await dumpXml(s, g.uuid, { inactive: !active });
      assert.is(parseXml(xml, 'dumpxml').getElementsByTagName('name')[0]?.textContent, g.name);
      await setNovaMetadata(s, g.uuid, NS, payload(g.name), { live: active, persistent: true });
      assert.equal(metadataContent(await getNovaMetadata(s, g.uuid, NS, { config: true })), expectedContent(g.name));
      // What the daemon holds, read by a separate virsh process.
      const stored = await d.virshOk('metadata', '--domain', g.uuid, '--uri', NS, '--config');
      assert.equal(metadataContent(stored), expectedContent(g.name));
    }
    assert.equal(metadataContent(await getNovaMetadata(s, running.uuid, NS, { config: false })), expectedContent(running.name));
    const notRunning = guests[0];
    if (!notRunning) throw new Error('no guest');
    const err = await failure(getNovaMetadata(s, notRunning.uuid, NS, { config: false }), VirshError);
    assert.match(err.stderr, /not running/u);
    assert.is(s.stats.processes, 1);
  } finally {
    await s.close();
  }
});

r('the daemon restarted under an open session: the next command works, in the same virsh', async () => {
  const s = new VirshSession({ uri: d.uri });
  try {
    const g = await defineGuest('restart-check', false);
    assert.equal(await resolveDomain(s, 'restart-check'), { uuid: g.uuid, name: g.name, active: false });
    const pid = sessionPid();
    await d.restart();
    assert.match(await dumpXml(s, g.uuid, { inactive: true }), '<name>restart-check</name>');
    assert.is(sessionPid(), pid, 'virsh reconnected by itself');
    assert.is((await listDomains(s)).filter((x) => x.uuid === g.uuid).length, 1);
  } finally {
    await s.close();
  }
});

r('the daemon going away while a command is in flight fails that command clearly; the next one works', async () => {
  const s = new VirshSession({ uri: d.uri });
  try {
    await s.run(['version']);
    const inFlight = failure(s.run(['event', '--all', '--loop']), VirshError);
    await new Promise((res) => setTimeout(res, 300));
    await d.restart();
    const err = await inFlight;
    assert.match(err.message, /^virsh event --all --loop: /u);
    assertOneLine(err);
    assert.match(await s.run(['uri']), d.uri.split('?')[0] ?? 'qemu');
  } finally {
    await s.close();
  }
});

r('the daemon down: commands fail clearly, in an open session and in a new one; once it is back both work', async () => {
  const open = new VirshSession({ uri: d.uri });
  const fresh = new VirshSession({ uri: d.uri });
  try {
    await open.run(['version']);
    const daemon = Number(readFileSync(join(d.root, 'libvirtd.pid'), 'utf8'));
    assert.ok(daemon > 1);
    process.kill(daemon, 'SIGTERM');
    assert.ok(await until(() => !alive(daemon)), 'the daemon stopped');
    const inOpen = await failure(open.run(['list', '--all']), VirshError);
    assert.match(inOpen.message, /^virsh list --all: error: Failed to reconnect to the hypervisor; error: Failed to connect socket/u);
    assertOneLine(inOpen);
    const inFresh = await failure(fresh.run(['list', '--all']), VirshError);
    assert.match(inFresh.message, /^virsh list --all: virsh ended \(exit status 1\) before answering \(error: failed to connect to the hypervisor; /u);
    assertOneLine(inFresh);
    await d.restart();
    assert.match(await open.run(['list', '--all', '--name']), 'restart-check');
    assert.match(await fresh.run(['list', '--all', '--name']), 'restart-check');
    assert.is(open.stats.processes, 1, 'the open session kept its virsh, which reconnected');
  } finally {
    await open.close();
    await fresh.close();
  }
});

r.run();
