/**
 * The bundle's second program: `nova-ipmeta hook NAME OPERATION SUB-OPERATION EXTRA`, the hook's
 * engine alone. libvirt waits on its start at every incoming migration and restore, so the
 * bundle's head (scripts/bundle-loader.cjs) runs this program instead of the whole one (src/bin.ts)
 * when the first word is `hook`: a fraction of the code to load, with a code cache of its own
 * (docs/design.md, "Cost"). Unbundled, src/main.ts dispatches `hook` to the same engine.
 */
import { warmingUp } from './adapters/code-cache';
import { runHook } from './commands/hook/run';
import { exitWith, processIo } from './io';

if (warmingUp()) {
  // The head's --write-code-cache: the hook's share of the warm-up.
  void import('./warm-up/hook').then(({ warmUpHookAlone }) => warmUpHookAlone());
} else {
  // `hook` and its words: the head runs this program for them alone.
  void runHook(process.argv.slice(3), processIo).then(exitWith);
}
