/** A small tmpfs of its own (root only), for what a full or read-only disk does to a writer. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function run(argv: string[]): void {
  const r = spawnSync(argv[0] ?? 'false', argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status ?? r.signal ?? '?'}: ${r.stderr}`);
}

/** Runs `work` with a fresh 64 KiB tmpfs (mode 0700) mounted in `parent`, unmounted afterwards. */
export async function withSmallTmpfs<T>(parent: string, work: (mnt: string) => T | Promise<T>): Promise<T> {
  const mnt = mkdtempSync(join(parent, 'tmpfs-'));
  run(['mount', '-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mnt]);
  try {
    return await work(mnt);
  } finally {
    run(['umount', mnt]);
    rmdirSync(mnt);
  }
}

/** Fills the file system of `dir` up (a file `filler` in it) until it is out of space. */
export function fillUp(dir: string): void {
  try {
    for (let i = 0; ; i++) writeFileSync(join(dir, 'filler'), Buffer.alloc(4096), { flag: i === 0 ? 'w' : 'a' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
}

/** Remounts it read-only (or read-write again). */
export function remount(mnt: string, mode: 'ro' | 'rw'): void {
  run(['mount', '-o', `remount,${mode}`, mnt]);
}
