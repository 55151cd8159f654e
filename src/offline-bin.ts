/**
 * The bundle's third program: `nova-ipmeta render` and `nova-ipmeta inject`, the CLI with those
 * two commands alone (src/cli/offline-commands.ts). The bundle's head (scripts/bundle-loader.cjs)
 * runs it instead of the whole program (src/bin.ts) when the first word is one of theirs: a
 * fraction of the code to read and of the code cache to deserialize (docs/design.md, "Cost").
 * Unbundled, src/main.ts runs them with every other command.
 */
import { warmingUp } from './adapters/code-cache';
import { offlineCommands } from './cli/offline-commands';
import { exitWith, processIo } from './io';
import { runMain } from './main';

if (warmingUp()) {
  // The head's --write-code-cache: these commands' share of the warm-up.
  void import('./warm-up/offline').then(({ warmUpOffline }) => warmUpOffline());
} else {
  void runMain(process.argv.slice(2), processIo, offlineCommands).then(exitWith);
}
