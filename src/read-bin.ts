/**
 * The bundle's fourth program: `nova-ipmeta list`, `find`, `history` and `show`, the CLI with
 * those commands alone (src/cli/read-commands.ts). The bundle's head (scripts/bundle-loader.cjs)
 * runs it instead of the whole program (src/bin.ts) when the first word is one of theirs: about
 * two fifths of the code to read and of the code cache to deserialize (docs/design.md, "Cost").
 * Unbundled, src/main.ts runs them with every other command.
 */
import { warmingUp } from './adapters/code-cache';
import { readCommands } from './cli/read-commands';
import { exitWith, processIo } from './io';
import { runMain } from './main';

if (warmingUp()) {
  // The head's --write-code-cache: these commands' share of the warm-up.
  void import('./warm-up/read').then(({ warmUpRead }) => warmUpRead());
} else {
  void runMain(process.argv.slice(2), processIo, readCommands).then(exitWith);
}
