/** A small tmpfs, for the failures only a real file system gives (ENOSPC); root only, like mount. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `fn` with a fresh tmpfs of `sizeKiB` (0700) mounted, and unmounts it whatever happens. */
export async function withTmpfs<T>(fn: (mnt: string) => T | Promise<T>, sizeKiB = 64): Promise<T> {
  const mnt = mkdtempSync(join(tmpdir(), 'nova-ipmeta-tmpfs-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`mount tmpfs on ${mnt}: ${m.stderr}`);
  try {
    return await fn(mnt);
  } finally {
    // A failed umount leaves the directory (rmdir fails too): the test's own failure is the one to see.
    if (spawnSync('umount', [mnt]).status === 0) rmdirSync(mnt);
  }
}

/** Fills the file system holding `dir` to its last byte, with `dir/filler`. */
export function fillUp(dir: string): void {
  const chunk = Buffer.alloc(4096, 1);
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(dir, 'filler'), chunk, { flag: i === 0 ? 'w' : 'a' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw err;
    }
  }
}

/** Remounts it read-only (or read-write again). */
export function remount(mnt: string, mode: 'ro' | 'rw'): void {
  const r = spawnSync('mount', ['-o', `remount,${mode}`, mnt], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`remount ${mode} ${mnt}: ${r.stderr}`);
}
