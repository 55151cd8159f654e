/**
 * `nova-ipmeta watch`: the watcher as a service (systemd's journal takes its stderr). It runs
 * until SIGTERM or SIGINT, then stops cleanly and returns 0. With `--metrics-listen` (or
 * `[metrics] listen`), it also serves `/metrics`: its own series and the last reconcile run's.
 */
import { InputError, SystemError, messageOf } from '../../errors';
import { serveMetrics, type MetricsServer } from '../../adapters/metrics-http';
import { resolveSettings, type Settings } from '../../adapters/settings';
import { readStateFile } from '../../adapters/state-file';
import { parseListenAddress, type ListenAddress } from '../../core/listen-address';
import { ExitCode } from '../../exit-code';
import { LAST_RUN_FILE, LAST_RUN_MAX_BYTES, parseRunRecord } from '../../usecases/reconcile/metrics';
import { METRICS_CONTENT_TYPE, formatRegistries, registryOf } from '../../usecases/reconcile/metrics-exposition';
import { WatchMetrics } from '../../usecases/watch/watch-metrics';
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
  const listen = metricsListen(args, settings);
  const controller = new AbortController();
  const log = (line: string) => {
    io.err(`${line}\n`);
  };
  const metrics = listen ? new WatchMetrics() : undefined;
  // Before the watcher starts: an address that cannot be bound is a configuration error, said at once.
  const server: MetricsServer | undefined = listen && metrics ? await serveMetrics({ address: listen, contentType: METRICS_CONTENT_TYPE, render: () => renderMetrics(settings, metrics), log }) : undefined;
  if (server) log(`serving metrics at ${server.url}`);
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    log(`stopping (${signal})`);
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    await runWatch({
      uri: settings.uri,
      client: settings.libvirtClient,
      stateDir: settings.stateDir,
      cacheDir: settings.cacheDir,
      log,
      verbose: args.verbose,
      signal: controller.signal,
      tuning: { debounceMs: args.debounce },
      ...(metrics ? { metrics } : {}),
      history: new AddressHistory({ stateDir: settings.stateDir, ini: settings.ini, configFile: settings.configFile, log }),
    });
    return ExitCode.ok;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    await server?.close();
  }
}

/** The flag wins over the config file; neither: not served. */
function metricsListen(args: Args, settings: Settings): ListenAddress | undefined {
  const fromFlag = args.metricsListen !== undefined && args.metricsListen !== '';
  const text = fromFlag ? args.metricsListen : settings.ini.get('metrics')?.get('listen');
  if (text === undefined || text === '') return undefined;
  const address = parseListenAddress(text);
  if (typeof address === 'string') throw new InputError(fromFlag ? '--metrics-listen' : `${settings.configFile}: [metrics] listen`, address);
  return address;
}

/** Per scrape: the last run's record as the periodic reconcile left it, then the watcher's own series. */
async function renderMetrics(settings: Settings, metrics: WatchMetrics): Promise<string> {
  let text: string | undefined;
  try {
    text = readStateFile(settings.stateDir, LAST_RUN_FILE, LAST_RUN_MAX_BYTES);
  } catch (err) {
    throw new SystemError(`the last run's record: ${messageOf(err)}`, { cause: err });
  }
  const record = text === undefined ? undefined : parseRunRecord(text);
  return formatRegistries(record ? [registryOf(record), metrics.registry] : [metrics.registry]);
}
