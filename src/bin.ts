#!/usr/bin/env node
import { runMain } from './main';

void runMain(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
