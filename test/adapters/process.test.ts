/** The one way processes are started: argv only, bounded in time, failures shaped like execa's. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessError, runProcess, runProcessSync, startProcess } from '../../src/adapters/process';
import { SystemError } from '../../src/errors';

async function rejection(p: Promise<unknown>): Promise<ProcessError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, ProcessError);
    return err as ProcessError;
  }
  throw new Error('resolved');
}

test('output, input and the environment added to the caller', async () => {
  const r = await runProcess(['sh', '-c', 'read line; printf "%s %s" "$line" "$EXTRA"; printf oops >&2'], { timeoutMs: 10_000, input: 'hello\n', env: { EXTRA: 'world' } });
  assert.equal([r.exitCode, r.signal, r.stdout, r.stderr], [0, undefined, 'hello world', 'oops']);
  // argv is never a shell string: metacharacters are plain bytes.
  assert.is((await runProcess(['printf', '%s', '$(id); `id` | ;'], { timeoutMs: 10_000 })).stdout, '$(id); `id` | ;');
});

test('a non-zero exit rejects with an execa-like error, or resolves with allowFailure', async () => {
  const e = await rejection(runProcess(['sh', '-c', 'echo "no\nluck" >&2; exit 7'], { timeoutMs: 10_000 }));
  assert.instance(e, SystemError);
  assert.equal([e.exitCode, e.signal, e.timedOut, e.stderr], [7, undefined, false, 'no\nluck\n']);
  assert.is(e.message, 'sh -c "echo \\"no\\nluck\\" >&2; exit 7": exit status 7 (no; luck)');
  assert.is((await runProcess(['sh', '-c', 'exit 7'], { timeoutMs: 10_000, allowFailure: true })).exitCode, 7);
});

test('a program that is not there, and one that runs out of time', async () => {
  const missing = await rejection(runProcess(['/nonexistent/program', 'x'], { timeoutMs: 10_000, allowFailure: true }));
  assert.is(missing.spawnErrorCode, 'ENOENT');
  assert.is(missing.message, '/nonexistent/program x: not found');
  const slow = await rejection(runProcess(['sleep', '30'], { timeoutMs: 200 }));
  assert.equal([slow.timedOut, slow.signal], [true, 'SIGKILL']);
  assert.is(slow.message, 'sleep 30: no answer within 200 ms: killed');
});

test('extra descriptors are handed over as fd 3, 4...', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-process-'));
  const fd = openSync(join(dir, 'f'), 'w');
  try {
    await runProcess(['sh', '-c', 'echo written >&3'], { timeoutMs: 10_000, extraFds: [fd] });
    assert.is(readFileSync(join(dir, 'f'), 'utf8'), 'written\n');
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runProcessSync: the same results and the same errors, without an event loop turn', async () => {
  const sync = (...args: Parameters<typeof runProcessSync>) =>
    new Promise((resolve) => {
      resolve(runProcessSync(...args));
    });
  const ok = runProcessSync(['sh', '-c', 'printf out; printf err >&2'], { timeoutMs: 10_000 });
  assert.equal([ok.exitCode, ok.signal, ok.spawnErrorCode, ok.stdout, ok.stderr], [0, undefined, undefined, 'out', 'err']);
  const e = await rejection(sync(['sh', '-c', 'echo "no\nluck" >&2; exit 7'], { timeoutMs: 10_000 }));
  assert.equal([e.exitCode, e.signal, e.timedOut, e.message], [7, undefined, false, 'sh -c "echo \\"no\\nluck\\" >&2; exit 7": exit status 7 (no; luck)']);
  assert.is(runProcessSync(['sh', '-c', 'exit 7'], { timeoutMs: 10_000, allowFailure: true }).exitCode, 7);
  const missing = await rejection(sync(['/nonexistent/program', 'x'], { timeoutMs: 10_000, allowFailure: true }));
  assert.equal([missing.spawnErrorCode, missing.message], ['ENOENT', '/nonexistent/program x: not found']);
  const slow = await rejection(sync(['sleep', '30'], { timeoutMs: 200 }));
  assert.equal([slow.timedOut, slow.signal, slow.message], [true, 'SIGKILL', 'sleep 30: no answer within 200 ms: killed']);
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-process-'));
  const fd = openSync(join(dir, 'f'), 'w');
  try {
    runProcessSync(['sh', '-c', 'echo written >&3'], { timeoutMs: 10_000, extraFds: [fd] });
    assert.is(readFileSync(join(dir, 'f'), 'utf8'), 'written\n');
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('startProcess: streams, and `ended` once the output is all read', async () => {
  const p = startProcess(['sh', '-c', 'cat; echo done >&2'], { stdin: 'pipe' });
  let out = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  p.stdin?.end('line 1\nline 2\n');
  const end = await p.ended;
  assert.equal([end.exitCode, end.signal, end.spawnErrorCode, out], [0, undefined, undefined, 'line 1\nline 2\n']);
  const killed = startProcess(['sleep', '30']);
  killed.kill('SIGTERM');
  assert.equal((await killed.ended).signal, 'SIGTERM');
  const missing = startProcess(['/nonexistent/program']);
  assert.is(missing.pid, undefined);
  assert.is((await missing.ended).spawnErrorCode, 'ENOENT');
});

test.run();
