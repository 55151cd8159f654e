#!/usr/bin/env node
import { exitWith } from './io';
import { runMain } from './main';

const argv = process.argv.slice(2);
void runMain(argv).then((code) => {
  // The installer's warm-up ends with the hook's beside it: the head writes the code cache at that exit.
  if (argv[0] === '__warm-up') process.exitCode = code;
  else exitWith(code);
});
