/** The admin CLI: one command runs and returns its exit code; errors go up to runMain. */
import type { Io } from '../io';
import { commands } from './commands';
import { leanParse } from './lean-parse';

export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const lean = commands.find((c) => c.lean && c.name === argv[0]);
  const args = lean && leanParse(lean, argv.slice(1));
  if (lean && args) return lean.run(args as never, io);
  const { runYargs } = await import('./yargs-cli');
  return runYargs(argv, io);
}
