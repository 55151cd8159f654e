/** writeFileAtomic: temp + fsync + rename, exact modes, foreign directories left alone, clean failure. */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileAtomic } from '../../src/adapters/atomic-file';
import { SystemError } from '../../src/errors';
import { fillUp, withTmpfs } from '../support/tmpfs';

const tmp = mkdtempSync(join(tmpdir(), 'atomic-file-'));
let n = 0;
const freshDir = () => {
  const d = join(tmp, `d${n++}`);
  mkdirSync(d);
  return d;
};
const mode = (p: string) => statSync(p).mode & 0o7777;

function thrown(fn: () => void): SystemError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, SystemError);
    assert.not.match((err as Error).message, '\n');
    return err as SystemError;
  }
  assert.unreachable('did not throw');
  throw new Error('unreachable');
}

test('writes the content with exactly the mode asked for, whatever the umask', () => {
  const dir = freshDir();
  const old = process.umask(0o077);
  try {
    writeFileAtomic(join(dir, 'metrics.prom'), 'a 1\n', { mode: 0o644 });
    writeFileAtomic(join(dir, 'state.json'), Buffer.from('[]'), { mode: 0o600 });
  } finally {
    process.umask(old);
  }
  assert.is(mode(join(dir, 'metrics.prom')), 0o644);
  assert.is(mode(join(dir, 'state.json')), 0o600);
  assert.is(readFileSync(join(dir, 'metrics.prom'), 'utf8'), 'a 1\n');
  assert.is(readFileSync(join(dir, 'state.json'), 'utf8'), '[]');
  assert.equal(readdirSync(dir).sort(), ['metrics.prom', 'state.json']);
});

test('replaces the file by rename (a new inode), leaving no temp file', () => {
  const dir = freshDir();
  const path = join(dir, 'f');
  writeFileSync(path, 'old content that is longer');
  const before = statSync(path).ino;
  writeFileAtomic(path, 'new', { mode: 0o600 });
  assert.is(readFileSync(path, 'utf8'), 'new');
  assert.is.not(statSync(path).ino, before);
  assert.equal(readdirSync(dir), ['f']);
});

test("in a directory that is not ours: the directory's owner and mode are left alone", () => {
  const dir = freshDir();
  chownSync(dir, 65534, 65534);
  chmodSync(dir, 0o755);
  writeFileAtomic(join(dir, 'nova_ipmeta.prom'), 'x 1\n', { mode: 0o644 });
  const st = statSync(dir);
  assert.is(st.uid, 65534);
  assert.is(st.mode & 0o7777, 0o755);
  assert.is(readFileSync(join(dir, 'nova_ipmeta.prom'), 'utf8'), 'x 1\n');
});

test('a symlink at the target is replaced, never followed', () => {
  const dir = freshDir();
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, join(dir, 'f'));
  writeFileAtomic(join(dir, 'f'), 'mine', { mode: 0o600 });
  assert.is(readFileSync(victim, 'utf8'), 'precious');
  assert.ok(lstatSync(join(dir, 'f')).isFile());
  assert.is(readFileSync(join(dir, 'f'), 'utf8'), 'mine');
});

test('a directory at the target: SystemError naming the path and errno, no temp left', () => {
  const dir = freshDir();
  mkdirSync(join(dir, 'f'));
  const err = thrown(() => {
    writeFileAtomic(join(dir, 'f'), 'x', { mode: 0o600 });
  });
  assert.is(err.message, `cannot write ${join(dir, 'f')}: EISDIR (illegal operation on a directory)`);
  assert.is(err.kind, 'system');
  assert.equal(readdirSync(dir), ['f']);
});

test('a missing directory: SystemError with ENOENT', () => {
  const path = join(tmp, 'no-such-dir', 'f');
  assert.is(thrown(() => {
    writeFileAtomic(path, 'x', { mode: 0o600 });
  }).message, `cannot write ${path}: ENOENT (no such file or directory)`);
});

test('disk full (ENOSPC): clear error, the old file intact, no temp left', async () => {
  await withTmpfs((mnt) => {
    const path = join(mnt, 'state.json');
    writeFileAtomic(path, 'old', { mode: 0o600 });
    fillUp(mnt);
    const err = thrown(() => {
    writeFileAtomic(path, 'x'.repeat(8192), { mode: 0o600 });
  });
    assert.is(err.message, `cannot write ${path}: ENOSPC (no space left on device)`);
    assert.is(readFileSync(path, 'utf8'), 'old');
    assert.equal(readdirSync(mnt).sort(), ['filler', 'state.json']);
  });
});

test('read-only file system (EROFS): clear error, the old file intact', async () => {
  await withTmpfs((mnt) => {
    const path = join(mnt, 'state.json');
    writeFileAtomic(path, 'old', { mode: 0o600 });
    assert.is(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0);
    const err = thrown(() => {
    writeFileAtomic(path, 'new', { mode: 0o600 });
  });
    assert.is(err.message, `cannot write ${path}: EROFS (read-only file system)`);
    assert.is(readFileSync(path, 'utf8'), 'old');
    assert.equal(readdirSync(mnt), ['state.json']);
  });
});

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
