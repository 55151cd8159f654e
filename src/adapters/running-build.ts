/**
 * This build, in one word: its version and the identity of the file running. What the tool
 * remembers from files it read (the in-sync memo, find's index) is kept for the build that read
 * them only: another install is another build, and may read otherwise.
 */
import { statSync } from 'node:fs';
import { BUILD } from '../build-info';

/** Undefined when the running file cannot be told. */
export function runningBuild(): string | undefined {
  const file = process.argv[1];
  if (file === undefined) return undefined;
  try {
    const s = statSync(file, { bigint: true });
    return `${BUILD?.version ?? 'source'} ${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return undefined;
  }
}
