/**
 * V8's code cache beside the bundle (scripts/bundle-loader.cjs): `--write-code-cache` makes it for
 * the Node that runs it, and V8 takes each program's part (as `doctor` reports it); a start with it
 * prints exactly what a start without it prints; a cache of another Node, another build, a short,
 * a garbled one or one with its parts swapped is passed over silently, on this Node and on Node
 * 18.20.4, and `doctor` says which. Copies of the built bundle in a scratch directory, never dist/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { node18 } from '../../scripts/system-node.mjs';
import { BUNDLE, NODES, bundlePrograms, copyBundle, fixturePath } from '../support/cli';

const scratch = mkdtempSync(join(tmpdir(), 'nova-ipmeta-code-cache-'));
const WALLABY = fixturePath('domains/wallaby-nova-ports.xml');
const TWO_PORTS = fixturePath('network_info/two-ports.json');

function bundleCopy(name: string): string {
  const copy = join(scratch, `${name}.cjs`);
  copyBundle(copy);
  return copy;
}
function run(node: string, bundle: string, ...args: string[]) {
  const r = spawnSync(node, [bundle, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const PRE_WALLABY = readFileSync(fixturePath('domains/pre-wallaby.xml'), 'utf8');
const PRE_WALLABY_UUID = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';

/** A state directory whose cache holds the network_info of PRE_WALLABY's instance. */
function stateWithCache(node: string): string {
  const state = mkdtempSync(join(scratch, 'state-'));
  const put = spawnSync(node, [BUNDLE, 'cache', 'put', PRE_WALLABY_UUID, TWO_PORTS, '--state-dir', state], { encoding: 'utf8' });
  assert.is(put.status, 0, put.stderr);
  return state;
}
/** `hook NAME migrate begin -` as hooks/qemu runs it, with `xml` on stdin. */
function migrate(node: string, bundle: string, state: string, xml: string) {
  const r = spawnSync(node, [bundle, 'hook', 'instance-0000002a', 'migrate', 'begin', '-'], { input: xml, env: { ...process.env, NOVA_IPMETA_STATE_DIR: state }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** What `doctor` says of the code cache (the rest of its checks look at a host that is not here). */
function doctorSays(node: string, bundle: string): { status: string; detail: string; fix?: string } {
  const r = spawnSync(node, [bundle, 'doctor', '--json', '--hooks-dir', join(scratch, 'no-hooks'), '--state-dir', join(scratch, 'no-state'), '--connect', `qemu:///system?socket=${join(scratch, 'no-socket')}`], { encoding: 'utf8' });
  const report = JSON.parse(r.stdout) as { checks: { check: string; status: string; detail: string; fix?: string }[] };
  const check = report.checks.find((c) => c.check === 'code cache');
  assert.ok(check, r.stdout);
  return { status: check.status, detail: check.detail, ...(check.fix === undefined ? {} : { fix: check.fix }) };
}
const header = (cache: string) => readFileSync(cache).subarray(0, readFileSync(cache).indexOf(10)).toString('latin1');

for (const [i, [label, node]] of NODES.entries()) {
  test(`${label}: --write-code-cache writes the cache for this Node; a start with it prints the same`, () => {
    // A copy of its own (the machine's Node may be 18.20.4 as well: Debian 12's).
    const bundle = bundleCopy(`made-${i}`);
    const without = run(node, bundle, 'inject', WALLABY, TWO_PORTS);
    const state = stateWithCache(node);
    const rewritten = migrate(node, bundle, state, PRE_WALLABY);
    assert.ok(rewritten.stdout.includes('<nova:ports>'), rewritten.stderr);
    const cache = `${bundle}.cache`;
    assert.equal(doctorSays(node, bundle), {
      status: 'warn',
      detail: `${cache} is missing: every start compiles the program`,
      fix: `${node} ${bundle} --write-code-cache (the package does it when nodejs changes)`,
    });
    const made = run(node, bundle, '--write-code-cache');
    assert.equal(made, { code: 0, stdout: '', stderr: '' });
    // Each program's part is the one V8 takes for it.
    assert.equal(doctorSays(node, bundle), { status: 'ok', detail: `${cache}, used by the whole program, the hook engine, the offline commands, the read commands and the XML library` });
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    // One length per program: the whole one, the hook's, the offline and the read commands', the XML library's (scripts/bundle-loader.cjs).
    assert.match(header(cache), new RegExp(`^nova-ipmeta code cache [0-9a-f]{16} ${version.replace(/\./g, '\\.')} ${process.arch} \\d+ \\d+ \\d+ \\d+ \\d+$`));
    // Each part holds what its program's warm-up compiled (src/warm-up/), well beyond what compiling
    // the program alone gives: a program that skipped its warm-up would still have its part taken.
    const parts = header(cache).split(' ').slice(-5).map(Number);
    const { whole, hook, offline, read, xml } = bundlePrograms(bundle);
    for (const [k, [name, program]] of Object.entries({ whole, hook, offline, read, xml }).entries()) {
      const compiledAlone = new Script(program).createCachedData().length;
      assert.ok((parts[k] ?? 0) > 2 * compiledAlone, `${name}: ${parts[k]} bytes, ${compiledAlone} compiled alone`);
    }
    assert.is((statSync(cache).mode & 0o777).toString(8), '644');
    const inode = statSync(cache).ino;
    assert.equal(run(node, bundle, '--write-code-cache'), { code: 0, stdout: '', stderr: '' });
    assert.is(statSync(cache).ino, inode, 'made already: left as it is');
    assert.equal(run(node, bundle, 'inject', WALLABY, TWO_PORTS), without);
    assert.equal(run(node, bundle, 'hook', 'x', 'prepare', 'begin', '-'), { code: 0, stdout: '', stderr: '' });
    // The hook's program, with its own part of the cache: the same rewrite, then in sync.
    assert.equal(migrate(node, bundle, state, PRE_WALLABY), rewritten);
    assert.equal(migrate(node, bundle, state, rewritten.stdout), { code: 0, stdout: '', stderr: '' });
    assert.is(run(node, bundle, '--version').stdout, run(node, BUNDLE, '--version').stdout);
  });
}

test('a cache of another Node, another build, a short, a garbled or a swapped one: passed over, silently; doctor says which', () => {
  const system = process.execPath;
  const bundle = bundleCopy('spoiled');
  const cache = `${bundle}.cache`;
  const expected = run(system, bundle, 'inject', WALLABY, TWO_PORTS);
  const state = stateWithCache(system);
  const expectedHook = migrate(system, bundle, state, PRE_WALLABY);
  assert.is(run(system, bundle, '--write-code-cache').code, 0);
  const good = readFileSync(cache);
  const eol = good.indexOf(10);
  const head = good.subarray(0, eol).toString('latin1');
  const body = good.subarray(eol + 1);
  const [whole = 0, hook = 0, offline = 0, read = 0, xml = 0] = (/ (\d+) (\d+) (\d+) (\d+) (\d+)$/.exec(head) ?? []).slice(1).map(Number);
  assert.is(whole + hook + offline + read + xml, body.length);
  const everyProgram = /V8 refuses its data for the whole program, the hook engine, the offline commands, the read commands and the XML library /;
  const otherNodeOrBuild = /is for another Node or another build, or cut short: /;
  // Another Node than this one, which may be Debian 12's 18.20.4.
  const otherNode = process.version === 'v18.20.4' ? 'v20.19.0' : 'v18.20.4';
  // Each with what doctor says of it.
  const spoilt: Record<string, [Buffer, RegExp]> = {
    [`made by Node ${otherNode}`]: [Buffer.concat([Buffer.from(`${head.replace(/ v[\d.]+ /, ` ${otherNode} `)}\n`), body]), otherNodeOrBuild],
    'of another build': [Buffer.concat([Buffer.from(`${head.replace(/cache [0-9a-f]{16}/, 'cache 0123456789abcdef')}\n`), body]), otherNodeOrBuild],
    short: [good.subarray(0, good.length - 100), otherNodeOrBuild],
    'garbled, of the right length': [Buffer.concat([good.subarray(0, eol + 1), Buffer.alloc(body.length, 0x5a)]), everyProgram],
    'no header': [body, otherNodeOrBuild],
    'one length for five programs': [Buffer.concat([Buffer.from(`${head.replace(/ \d+ \d+ \d+ \d+ \d+$/, ` ${body.length}`)}\n`), body]), otherNodeOrBuild],
    // Each program handed the next one's part: the whole program the hook's, the hook the offline
    // commands', those the read commands', those the XML library's, the library the whole program's.
    'its parts swapped': [
      Buffer.concat([
        Buffer.from(`${head.replace(/ \d+ \d+ \d+ \d+ \d+$/, ` ${hook} ${offline} ${read} ${xml} ${whole}`)}\n`),
        body.subarray(whole),
        body.subarray(0, whole),
      ]),
      everyProgram,
    ],
  };
  for (const [what, [bytes, said]] of Object.entries(spoilt)) {
    writeFileSync(cache, bytes);
    const d = doctorSays(system, bundle);
    assert.is(d.status, 'warn', what);
    assert.match(d.detail, said, what);
    assert.equal(run(system, bundle, 'inject', WALLABY, TWO_PORTS), expected, what);
    assert.equal(migrate(system, bundle, state, PRE_WALLABY), expectedHook, `${what}: the hook`);
    // Made again, it is this Node's and this build's.
    assert.is(run(system, bundle, '--write-code-cache').code, 0);
    assert.is(header(cache).replace(/( \d+)+$/, ''), head.replace(/( \d+)+$/, ''), what);
  }
  // This Node's cache, read by Debian 12's Node (this very Node, on Debian 12 itself).
  writeFileSync(cache, good);
  assert.equal(run(node18, bundle, 'inject', WALLABY, TWO_PORTS), run(node18, BUNDLE, 'inject', WALLABY, TWO_PORTS));
  // Of the same version, the header is its own, and what V8 says depends on how each was built.
  const sameVersion = spawnSync(node18, ['--version'], { encoding: 'utf8' }).stdout.trim() === process.version;
  if (sameVersion) assert.not.match(doctorSays(node18, bundle).detail, otherNodeOrBuild);
  else assert.match(doctorSays(node18, bundle).detail, otherNodeOrBuild);
});

test("--write-code-cache never reaches the host's libvirt: find's warm-up asks a daemon of its own sample, which is not there", () => {
  // A virsh first on PATH that logs how it was called: with no socket at the URI, the calls go
  // through virsh. At the system daemon's URI they would go to its socket when there is one, and
  // through virsh (without that sample's socket) when not: either way not as asserted here.
  const bin = mkdtempSync(join(scratch, 'bin-'));
  const log = join(bin, 'virsh.log');
  writeFileSync(join(bin, 'virsh'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexit 1\n`, { mode: 0o755 });
  const bundle = bundleCopy('warm-up-libvirt');
  const r = spawnSync(process.execPath, [bundle, '--write-code-cache'], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } });
  assert.equal([r.status, r.stderr], [0, '']);
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  assert.ok(calls.length > 0, 'find asked libvirt: its sample is no daemon\'s');
  for (const call of calls) assert.match(call, /--connect qemu:\/\/\/system\?socket=\/\S+\/no-daemon(\s|$)/, call);
});

test('the cache cannot be written: one line, exit 3, no temp file left', () => {
  const bundle = bundleCopy('unwritable');
  const r = run(process.execPath, bundle, '--write-code-cache', join(scratch, 'no-such-dir', 'x.cache'));
  assert.is(r.code, 3);
  assert.match(r.stderr, /^nova-ipmeta: cannot write the code cache .*x\.cache: ENOENT\n$/);
  assert.not.ok(existsSync(join(scratch, 'no-such-dir')));
});

test.after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

test.run();
