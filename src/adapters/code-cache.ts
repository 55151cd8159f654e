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
  /** In the bundle's order (scripts/build.mjs): the whole program, the hook's engine, the offline commands, the read commands, the XML library they share. */
  readonly programs: readonly { readonly program: BundleProgram; readonly state: CodeCacheState }[];
}

const PROGRAMS = ['whole program', 'hook engine', 'offline commands', 'read commands', 'XML library'] as const;
type BundleProgram = (typeof PROGRAMS)[number];

/** What the head puts there; it is built with this program, from the same checkout. */
interface Head {
  readonly bundle: string;
  readonly file: string;
  readonly states: () => readonly CodeCacheState[];
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
  const states = seen.states();
  return {
    bundle: seen.bundle,
    file: seen.file,
    fileExists: existsSync(seen.file),
    programs: PROGRAMS.map((program, i) => ({ program, state: states[i] as CodeCacheState })),
  };
}
