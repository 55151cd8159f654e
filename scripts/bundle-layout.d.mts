// Types for scripts/bundle-layout.mjs, for the TypeScript tests.
export interface Program {
  readonly name: string;
  readonly entry: string;
  readonly words: readonly string[];
}
export declare const PROGRAMS: readonly Program[];
export declare const LIBRARY_PROGRAM: { readonly name: string; readonly module: string };
export declare function programsFileOf(bundle: string): string;
