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
  /** In the bundle's order: the whole program, then the hook's engine. */
  readonly programs: readonly { readonly program: 'whole program' | 'hook engine'; readonly state: CodeCacheState }[];
}

const PROGRAMS = ['whole program', 'hook engine'] as const;
const STATES: readonly unknown[] = ['used', 'refused', 'none'] satisfies CodeCacheState[];

interface Head {
  readonly bundle: string;
  readonly file: string;
  readonly states: () => unknown;
}

/** Undefined when this is not the bundle (run from source: nothing is ever cached). */
export function codeCacheReport(): CodeCacheReport | undefined {
  const head = typeof module === 'object' ? (module as { codeCache?: Partial<Head> }).codeCache : undefined;
  if (typeof head?.bundle !== 'string' || typeof head.file !== 'string' || typeof head.states !== 'function') return undefined;
  const states = head.states();
  if (!Array.isArray(states) || states.length !== PROGRAMS.length || !states.every((s) => STATES.includes(s))) {
    // The head and this program come from one build: a bug.
    throw new Error(`the bundle's head reports code cache states ${JSON.stringify(states)}`);
  }
  return {
    bundle: head.bundle,
    file: head.file,
    fileExists: existsSync(head.file),
    programs: PROGRAMS.map((program, i) => ({ program, state: states[i] as CodeCacheState })),
  };
}
