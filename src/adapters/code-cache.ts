/**
 * V8's code cache as the bundle's head sees it (scripts/bundle-loader.cjs puts `codeCache` on the
 * module object it hands the program): the bundle, its cache file, and for each program of the
 * bundle whether a start would use that program's part. Asking compiles each program with its
 * part, as a start does (tens of milliseconds): for `doctor`, never on a start's own path.
 */
import { existsSync } from 'node:fs';

export type CodeCacheState = 'used' | 'refused' | 'none';

export interface CodeCacheReport {
  readonly bundle: string;
  readonly file: string;
  readonly fileExists: boolean;
  /** Each of the bundle's programs, by the name the build gives it (scripts/bundle-layout.mjs, PROGRAMS), in its order. */
  readonly programs: readonly ProgramCacheState[];
}

export interface ProgramCacheState {
  readonly program: string;
  readonly state: CodeCacheState;
}

/** What the head puts there; it is built with this program, from the same checkout. */
interface Head {
  readonly bundle: string;
  readonly file: string;
  readonly programs: () => readonly ProgramCacheState[];
  /** This start is `--write-code-cache`'s: the programs run their warm-up (src/warm-up/), nothing else. */
  readonly warmingUp: boolean;
}

/** Undefined when this is not the bundle (run from source). */
function head(): Head | undefined {
  return typeof module === 'object' ? (module as { codeCache?: Head }).codeCache : undefined;
}

/** Whether the head runs this program to make the code cache: then it runs its warm-up alone. */
export function warmingUp(): boolean {
  return head()?.warmingUp === true;
}

/** Undefined when this is not the bundle (run from source: nothing is ever cached). */
export function codeCacheReport(): CodeCacheReport | undefined {
  const seen = head();
  if (seen === undefined) return undefined;
  return { bundle: seen.bundle, file: seen.file, fileExists: existsSync(seen.file), programs: seen.programs() };
}
