/**
 * The whole program as a function: argv in, exit code out, no side effect at import. The hook
 * path is dispatched before anything heavy loads, since libvirt waits on it at every incoming
 * migration and restore: it never loads yargs or execa.
 */
import { ExitCode, IpmetaError } from './errors';
import { processIo, type Io } from './io';

export async function runMain(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    if (argv[0] === 'hook') {
      const { runHook } = await import('./commands/hook/run');
      return await runHook(argv.slice(1), io);
    }
    const { runCli } = await import('./cli/run-cli');
    return await runCli(argv, io);
  } catch (err) {
    return reportError(err, io);
  }
}

/** The one place errors become messages and exit codes. */
export function reportError(err: unknown, io: Io): number {
  if (err instanceof IpmetaError) {
    io.err(`nova-ipmeta: ${err.message}\n`);
    return err.exitCode;
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.err(`nova-ipmeta: internal error (please report): ${detail}\n`);
  return ExitCode.system;
}
