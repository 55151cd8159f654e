/**
 * Reading what the tool did not write (adapters/file-read.ts, input-file.ts, settings.ts, io.ts),
 * on real files, FIFOs and pipes, and through the built bundle where what matters is the process:
 * never blocked by a FIFO, never more in memory than the bound, never U+FFFD for a broken byte,
 * and a SIGTERM while it waits for input ends it (143) at once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeUtf8, readRegularFile } from '../../src/adapters/file-read';
import { LIMITS } from '../../src/core/network-info';
import { MAX_XML_BYTES } from '../../src/core/xml-document';
import { InputError } from '../../src/errors';
import { fixture } from '../support/builders';
import { BUNDLE, fixturePath, runInProcess } from '../support/cli';

const tmp = mkdtempSync(join(tmpdir(), 'nova-ipmeta-file-read-'));
const UUID = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
const state = join(tmp, 'state');
const fifo = join(tmp, 'fifo');
assert.is(spawnSync('mkfifo', [fifo]).status, 0);

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

test('readRegularFile: a FIFO, a device, a directory, a link (when asked), a file over the bound: refused without reading', () => {
  assert.is(code(() => readRegularFile(fifo, { maxBytes: 10 })), 'ENOTREG', 'a FIFO with no writer: refused, not waited on');
  assert.is(code(() => readRegularFile('/dev/zero', { maxBytes: 10 })), 'ENOTREG');
  assert.is(code(() => readRegularFile(tmp, { maxBytes: 10 })), 'EISDIR');
  const file = join(tmp, 'eleven');
  writeFileSync(file, 'eleven byte');
  const link = join(tmp, 'link');
  symlinkSync(file, link);
  assert.is(code(() => readRegularFile(link, { maxBytes: 100, noFollow: true })), 'ELOOP');
  assert.is(readRegularFile(link, { maxBytes: 100 }).toString(), 'eleven byte');
  assert.is(code(() => readRegularFile(file, { maxBytes: 10 })), 'EFBIG');
  assert.is(readRegularFile(file, { maxBytes: 11 }).toString(), 'eleven byte');
});

test('readRegularFile: a file that gives no size (/proc) is read whole, past the first buffer, and still bounded', () => {
  const status = readRegularFile('/proc/self/status', { maxBytes: 1 << 20 }).toString();
  assert.match(status, /^Name:\t/);
  assert.ok(status.endsWith('\n'));
  assert.is(code(() => readRegularFile('/proc/self/status', { maxBytes: 100 })), 'EFBIG', 'refused once more than the bound is read');
  // A Node process's memory map is well over the 64 KiB first read: the buffer grows, the end is kept.
  const smaps = readRegularFile('/proc/self/smaps', { maxBytes: 64 << 20 }).toString();
  assert.ok(smaps.length > 64 * 1024 + 1, `${smaps.length} bytes`);
  assert.match(smaps.slice(-200), /VmFlags:[^\n]*\n$/);
});

test('decodeUtf8: strict, naming the first bad byte; never U+FFFD', () => {
  assert.is(decodeUtf8(Buffer.from('ünï 🚀'), 'x'), 'ünï 🚀');
  for (const [bytes, at] of [
    [Buffer.from([0x61, 0xff, 0x62]), 1],
    [Buffer.from([0x61, 0x62, 0xc3]), 2], // cut in the middle of a character
    [Buffer.from([0xed, 0xa0, 0x80]), 0], // a surrogate, encoded
    [Buffer.from([0xc0, 0xaf]), 0], // an overlong "/"
    [Buffer.from([0x61, 0xe9, 0x3c]), 1], // Latin-1 "é<"
  ] as const) {
    assert.throws(
      () => decodeUtf8(bytes, 'stdin'),
      (e: unknown) => e instanceof InputError && e.message === `stdin: not valid UTF-8 text (byte ${at})`,
    );
  }
});

test('decodeUtf8: a U+FFFD written as such is text like any other', () => {
  assert.is(decodeUtf8(Buffer.from('a\uFFFDb'), 'x'), 'a\uFFFDb');
  assert.is(decodeUtf8(Buffer.from('\uFEFF<a/>'), 'x'), '\uFEFF<a/>'); // a byte order mark is kept
  assert.throws(() => decodeUtf8(Buffer.from([0xef, 0xbf, 0xbd, 0xff]), 'x'), /not valid UTF-8 text \(byte 3\)/);
});

test('decodeUtf8 reads any bytes as the strict decoder does: the same text, or refused', () => {
  const strict = (bytes: Uint8Array) => {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      return undefined;
    }
  };
  const ours = (bytes: Uint8Array) => {
    try {
      return decodeUtf8(bytes, 'x');
    } catch (e) {
      assert.instance(e, InputError);
      return undefined;
    }
  };
  // Bytes near UTF-8's edges: lead and continuation bytes, the replacement character's own, ASCII.
  const edgy = fc.constantFrom(0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xbd, 0xf0, 0xf4, 0xf5, 0xff);
  const sample = fc.oneof(
    fc.uint8Array({ maxLength: 24 }),
    fc.array(edgy, { maxLength: 24 }).map((b) => Uint8Array.from(b)),
    fc.string({ unit: 'binary', maxLength: 12 }).map((t) => new TextEncoder().encode(t)),
  );
  fc.assert(
    fc.property(sample, (bytes) => {
      assert.is(ours(bytes), strict(bytes));
    }),
    { numRuns: 3000 },
  );
});

test('invalid UTF-8 and XML in another encoding are refused by every command that reads input (exit 2, one line)', async () => {
  const badJson = Buffer.concat([Buffer.from('[{"id": "'), Buffer.from([0xff]), Buffer.from('"}]')]);
  const domain = fixture('domains/wallaby-nova-ports.xml');
  const latin1Bytes = Buffer.from(domain.replace('db-1', 'db-é'), 'latin1');
  const declared = Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?>\n${domain}`);
  assert.ok(latin1Bytes.includes(0xe9));
  const cases: [string[], Buffer, string][] = [
    [['cache', 'put', UUID, '-', '--state-dir', state], badJson, 'stdin: not valid UTF-8 text (byte 9)'],
    [['render', '-'], badJson, 'stdin: not valid UTF-8 text (byte 9)'],
    [['inject', '-', fixturePath('network_info/two-ports.json')], latin1Bytes, `stdin: not valid UTF-8 text (byte ${latin1Bytes.indexOf(0xe9)})`],
    [['show', '--xml', '-'], latin1Bytes, `stdin: not valid UTF-8 text (byte ${latin1Bytes.indexOf(0xe9)})`],
    [['inject', '-', fixturePath('network_info/two-ports.json')], declared, 'stdin: XML declared as "ISO-8859-1": only UTF-8 is read'],
    [['show', '--xml', '-'], declared, 'stdin: XML declared as "ISO-8859-1": only UTF-8 is read'],
  ];
  for (const [argv, input, message] of cases) {
    assert.equal(await runInProcess(argv, input), { code: 2, stdout: '', stderr: `nova-ipmeta: ${message}\n` }, argv.join(' '));
  }
  // The hook's filter prints nothing (libvirt keeps its XML) and says why.
  const hook = await runInProcess(['hook', 'instance-0000002b', 'migrate', 'begin', '-'], declared);
  assert.equal([hook.code, hook.stdout], [0, '']);
  assert.match(hook.stderr, 'XML declared as "ISO-8859-1": only UTF-8 is read');
});

/** Feeds `total` bytes to the child's stdin as fast as it takes them; resolves with how many it took before it ended. */
async function feed(child: ChildProcess, total: number): Promise<number> {
  const stdin = child.stdin;
  if (!stdin) throw new Error('no stdin');
  const exited = once(child, 'close');
  const child_ = { ended: false };
  stdin.on('error', () => (child_.ended = true)); // EPIPE once the child is gone
  void exited.then(() => (child_.ended = true));
  const chunk = Buffer.alloc(256 * 1024, 0x20);
  let written = 0;
  while (written < total && !child_.ended) {
    written += chunk.length;
    if (!stdin.write(chunk)) await Promise.race([once(stdin, 'drain').catch(() => undefined), exited]);
  }
  stdin.destroy();
  await exited;
  return written;
}

test('stdin is read up to its bound, never whole: 64 MiB offered, the command stops after the bound (exit 2)', async () => {
  const offered = 64 * 1024 * 1024;
  for (const [argv, limit] of [
    [['cache', 'put', UUID, '-', '--state-dir', state], LIMITS.bytes],
    [['inject', '-', fixturePath('network_info/two-ports.json')], MAX_XML_BYTES],
  ] as const) {
    const child = spawn(process.execPath, [BUNDLE, ...argv], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const taken = await feed(child, offered);
    assert.is(child.exitCode, 2, stderr);
    assert.is(stderr, `nova-ipmeta: stdin: larger than ${limit} bytes\n`);
    // What it took: its bound, and what the pipe and the writer's buffers held meanwhile.
    assert.ok(taken < limit + 8 * 1024 * 1024, `${argv[0]}: took ${taken} bytes of ${offered} for a bound of ${limit}`);
  }
});

test('a config file that is a FIFO (or a device) is refused at once, by every command, never waited on', () => {
  const cases = [
    { argv: ['reconcile', '--config', fifo], env: {} },
    { argv: ['watch', '--config', fifo], env: {} },
    { argv: ['list'], env: { NOVA_IPMETA_CONFIG: fifo } },
    { argv: ['cache', 'list', '--config', '/dev/zero'], env: {} },
  ];
  for (const { argv, env } of cases) {
    const r = spawnSync(process.execPath, [BUNDLE, ...argv, '--state-dir', state, '--connect', 'test:///default'], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
    const path = argv.includes('/dev/zero') ? '/dev/zero' : fifo;
    assert.equal([r.status, r.signal, r.stderr], [2, null, `nova-ipmeta: ${path}: cannot read the config file: not a regular file\n`], argv.join(' '));
  }
});

/** The main thread's current system call, from /proc: `0 0x0 ...` is read(0, ...). */
function syscallOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/syscall`, 'utf8');
  } catch {
    return '';
  }
}

test('SIGTERM while a command is blocked reading stdin ends it at once, with status 143', async () => {
  for (const argv of [
    ['cache', 'put', UUID, '-', '--state-dir', state],
    ['render', '-'],
    ['inject', '-', fixturePath('network_info/two-ports.json')],
    ['show', '--xml', '-'],
    ['hook', 'instance-0000002b', 'migrate', 'begin', '-'],
  ]) {
    // A stdin that stays open and silent.
    const child = spawn(process.execPath, [BUNDLE, ...argv], { stdio: ['pipe', 'ignore', 'ignore'] });
    const pid = child.pid ?? 0;
    for (let i = 0; i < 600 && !/^0 0x0 /.test(syscallOf(pid)); i++) await sleep(50);
    assert.match(syscallOf(pid), /^0 0x0 /, `${argv[0]}: blocked in read(0, ...)`);
    const exited = once(child, 'exit').then(([status, signal]) => ({ status: status as number | null, signal: signal as string | null }));
    child.kill('SIGTERM');
    const ended = await Promise.race([exited, sleep(30_000, undefined)]);
    child.stdin.destroy();
    if (!ended) child.kill('SIGKILL');
    assert.equal(ended, { status: null, signal: 'SIGTERM' }, `${argv.join(' ')}: ended by SIGTERM (the shell's 143)`);
  }
});

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
