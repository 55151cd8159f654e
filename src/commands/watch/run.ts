/**
 * `nova-ipmeta watch`: the watcher as a service (systemd's journal takes its stderr). It runs
 * until SIGTERM or SIGINT, then stops cleanly and returns 0.
 */
import { InputError } from '../../errors';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { AddressHistory } from '../../usecases/history/address-history';
import { runWatch } from '../../usecases/watch/watcher';
import type { Io } from '../../io';
import type { Args } from './command';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const MAX_DEBOUNCE_MS = 60_000;

export async function run(args: Args, io: Io): Promise<ExitCode> {
  if (!(args.debounce >= 0 && args.debounce <= MAX_DEBOUNCE_MS)) {
    throw new InputError('--debounce', `must be a number of milliseconds from 0 to ${MAX_DEBOUNCE_MS}`);
  }
  const settings = resolveSettings(args);
  const controller = new AbortController();
  const log = (line: string) => {
    io.err(`${line}\n`);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    log(`stopping (${signal})`);
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    await runWatch({
      uri: settings.uri,
      stateDir: settings.stateDir,
      cacheDir: settings.cacheDir,
      log,
      verbose: args.verbose,
      signal: controller.signal,
      tuning: { debounceMs: args.debounce },
      history: new AddressHistory({ stateDir: settings.stateDir, ini: settings.ini, configFile: settings.configFile, log }),
    });
    return ExitCode.ok;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}
