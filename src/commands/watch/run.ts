/**
 * `nova-ipmeta watch`: the watcher as a service (systemd's journal takes its stderr). It runs
 * until SIGTERM or SIGINT, then stops cleanly and returns 0.
 */
import { ExitCode, InputError } from '../../errors';
import { resolveSettings, type SettingFlags } from '../../adapters/settings';
import type { Io } from '../../io';
import { runWatch } from '../../watch/watch-service';

export interface Args extends SettingFlags {
  verbose: boolean;
  debounce: number;
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const MAX_DEBOUNCE_MS = 60_000;

export async function run(args: Args, io: Io): Promise<number> {
  if (!Number.isFinite(args.debounce) || args.debounce < 0 || args.debounce > MAX_DEBOUNCE_MS) {
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
    });
    return ExitCode.ok;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}

