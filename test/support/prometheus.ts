/**
 * A real Prometheus and real node_exporters for tests (prometheus.sh: Debian's packages, run as
 * plain binaries on free ports of 127.0.0.1, in temporary directories, killed when the test
 * process ends), and a small client for Prometheus's HTTP API.
 *
 *   const exporter = await startNodeExporter(textfileDir);
 *   const prom = await startPrometheus([{ job: 'node', targets: [{ address: exporter.address, instance: 'compute-1:9100' }] }]);
 *   const series = await prom.query('nova_ipmeta_instance_ip_info{address="203.0.113.25"}');
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port';

const PROMETHEUS_SH = join(dirname(fileURLToPath(import.meta.url)), 'prometheus.sh');
/** Where prometheus.sh keeps the unpacked packages between runs. */
const PACKAGE_DIR = process.env['NOVA_IPMETA_TEST_PROMETHEUS_DIR'] || '/var/tmp/nova-ipmeta-prometheus';
const START_TIMEOUT_MS = 60_000;

export interface PrometheusBinaries {
  readonly prometheus: string;
  readonly promtool: string;
  readonly nodeExporter: string;
}

let binaries: PrometheusBinaries | undefined;


/** Unpacks Debian's packages on first use (a download of about 25 MB), then returns their binaries. */
export function prometheusBinaries(): PrometheusBinaries {
  if (binaries) return binaries;
  const r = spawnSync('bash', [PROMETHEUS_SH, PACKAGE_DIR], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  const [prometheus, promtool, nodeExporter] = r.stdout.trim().split('\n');
  if (r.status !== 0 || !prometheus || !promtool || !nodeExporter) throw new Error(`prometheus.sh exited ${r.status ?? r.signal}`);
  binaries = { prometheus, promtool, nodeExporter };
  return binaries;
}

const children = new Set<ChildProcess>();
let exitHandler = false;

function startDaemon(argv: readonly string[], log: string): ChildProcess {
  const [cmd, ...args] = argv;
  const child = spawn(cmd ?? 'false', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (b: Buffer) => {
    output += b.toString();
    if (output.length > 1_000_000) output = output.slice(-500_000);
  });
  child.on('exit', () => {
    children.delete(child);
    writeFileSync(log, output);
  });
  children.add(child);
  if (!exitHandler) {
    exitHandler = true;
    process.on('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
  return child;
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await ended;
  clearTimeout(timer);
}

async function waitUntilAnswers(url: string, child: ChildProcess, what: string, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}: ${log()}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: no answer at ${url} within ${START_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface NodeExporter {
  /** `127.0.0.1:PORT`, for a scrape target. */
  readonly address: string;
  stop(): Promise<void>;
}

/** node_exporter with only its textfile collector, reading `textfileDir`. */
export async function startNodeExporter(textfileDir: string): Promise<NodeExporter> {
  const { nodeExporter } = prometheusBinaries();
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-node-exporter-'));
  const log = join(root, 'node-exporter.log');
  const child = startDaemon([nodeExporter, `--web.listen-address=${address}`, '--collector.disable-defaults', '--collector.textfile', `--collector.textfile.directory=${textfileDir}`], log);
  await waitUntilAnswers(`http://${address}/metrics`, child, 'node_exporter', () => readLog(log));
  return {
    address,
    stop: async () => {
      await stopDaemon(child);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface ScrapeJob {
  readonly job: string;
  /** `instance` replaces the address as the series' instance label, as a real host name would read. */
  readonly targets: readonly { readonly address: string; readonly instance: string }[];
}

export interface Series {
  readonly metric: Record<string, string>;
  /** [unix seconds, value] */
  readonly value: [number, string];
}

export interface RangeSeries {
  readonly metric: Record<string, string>;
  readonly values: [number, string][];
}

export interface RealPrometheus {
  readonly url: string;
  readonly root: string;
  /** An instant query, at `time` (unix seconds) or now. */
  query(promql: string, time?: number): Promise<Series[]>;
  queryRange(promql: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]>;
  /** Polls the query until `done` holds for its answer (a scrape, a rule evaluation); returns that answer. */
  waitFor(promql: string, done: (series: Series[]) => boolean, timeoutMs?: number): Promise<Series[]>;
  stop(): Promise<void>;
}

/** Prometheus scraping `jobs` every second, with an empty TSDB of its own. */
export async function startPrometheus(jobs: readonly ScrapeJob[], options: { ruleFiles?: readonly string[] } = {}): Promise<RealPrometheus> {
  const { prometheus } = prometheusBinaries();
  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-prometheus-'));
  const config = join(root, 'prometheus.yml');
  const scrape = jobs.map(
    (j) =>
      `  - job_name: ${JSON.stringify(j.job)}\n    static_configs:\n${j.targets.map((t) => `      - targets: [${JSON.stringify(t.address)}]\n        labels: { instance: ${JSON.stringify(t.instance)} }`).join('\n')}`,
  );
  const rules = options.ruleFiles?.length ? `rule_files: [${options.ruleFiles.map((f) => JSON.stringify(f)).join(', ')}]\n` : '';
  writeFileSync(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n${rules}scrape_configs:\n${scrape.join('\n')}\n`);
  const url = `http://127.0.0.1:${port}`;
  const log = join(root, 'prometheus.log');
  const child = startDaemon([prometheus, `--config.file=${config}`, `--storage.tsdb.path=${join(root, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], log);
  await waitUntilAnswers(`${url}/-/ready`, child, 'prometheus', () => readLog(log));

  const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const r = await fetch(`${url}${path}`, { method: 'POST', body: new URLSearchParams(params) });
    const body = (await r.json()) as { status: string; data?: { result: T }; error?: string };
    if (body.status !== 'success' || !body.data) throw new Error(`${path} ${JSON.stringify(params)}: ${body.error ?? r.status}`);
    return body.data.result;
  };
  const p: RealPrometheus = {
    url,
    root,
    query: (promql, time) => api<Series[]>('/api/v1/query', { query: promql, ...(time === undefined ? {} : { time: String(time) }) }),
    queryRange: (promql, start, end, step) => api<RangeSeries[]>('/api/v1/query_range', { query: promql, start: String(start), end: String(end), step: String(step) }),
    waitFor: async (promql, done, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const series = await p.query(promql);
        if (done(series)) return series;
        if (Date.now() > deadline) throw new Error(`${promql}: still ${JSON.stringify(series)} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop: async () => {
      await stopDaemon(child);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return p;
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
}
