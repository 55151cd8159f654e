#!/usr/bin/env node
import { warmingUp } from './adapters/code-cache';
import { commands } from './cli/commands';
import { exitWith, processIo } from './io';
import { runMain } from './main';

if (warmingUp()) {
  // The installer's --write-code-cache (scripts/bundle-loader.cjs): this program's warm-up. Its
  // exit stays Node's own: the head writes the code cache at that exit, once the hook's is done too.
  void import('./warm-up/program').then(async ({ warmUp }) => {
    process.exitCode = await warmUp();
  });
} else {
  void runMain(process.argv.slice(2), processIo, commands).then(exitWith);
}
