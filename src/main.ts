/**
 * The program as a function: argv and the commands it serves in, exit code out, no side effect
 * at import. The hook's filter path is dispatched before the CLI loads, since libvirt waits on it
 * at every incoming migration and restore (in the bundle, the hook's engine is a program of its
 * own: src/hook-bin.ts).
 *
 * The one place errors become messages and exit codes (src/exit-code.ts says what each means).
 */
import { ExitCode, PluginStatus } from './exit-code';
import { IpmetaError, UsageError, oneLine, type ErrorKind } from './errors';
import type { Io } from './io';
import type { Command } from './cli/spec';

const EXIT_OF_KIND: Readonly<Record<ErrorKind, ExitCode>> = {
  usage: ExitCode.badInput,
  input: ExitCode.badInput,
  'not-found': ExitCode.negative,
  system: ExitCode.failure,
};

/** `commands`: the ones this program serves, every one (src/bin.ts) or a bundle program's share (src/offline-bin.ts, src/read-bin.ts). */
export async function runMain(argv: readonly string[], io: Io, commands: readonly Command[]): Promise<ExitCode> {
  try {
    if (argv[0] === 'hook') {
      const { runHook } = await import('./commands/hook/run');
      return await runHook(argv.slice(1), io);
    }
    const { runCli } = await import('./cli/run-cli');
    return await runCli(argv, io, commands);
  } catch (err) {
    return isMonitoringCheck(argv) ? reportUnknown(err, io) : report(err, io);
  }
}

function report(err: unknown, io: Io): ExitCode {
  if (err instanceof IpmetaError) {
    const command = err instanceof UsageError ? err.command : undefined;
    const where = command === undefined ? '' : `${command}: `;
    const help = err instanceof UsageError ? ` (see nova-ipmeta ${command === undefined ? '' : `${command} `}--help)` : '';
    io.err(`nova-ipmeta: ${where}${oneLine(err.message)}${help}\n`);
    return EXIT_OF_KIND[err.kind];
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.err(`nova-ipmeta: internal error (please report): ${detail}\n`);
  return ExitCode.failure;
}

/**
 * `reconcile --check` is a monitoring plugin: whatever kept it from checking, usage errors
 * included, is UNKNOWN, said in the plugin's one line on stdout (Monitoring Plugins guidelines).
 */
function isMonitoringCheck(argv: readonly string[]): boolean {
  return argv.includes('reconcile') && argv.includes('--check');
}

function reportUnknown(err: unknown, io: Io): ExitCode {
  const message = err instanceof IpmetaError ? err.message : err instanceof Error ? `internal error (please report): ${err.message}` : String(err);
  io.out(`NOVA-IPMETA UNKNOWN - ${oneLine(message)}\n`);
  return PluginStatus.unknown;
}
