/**
 * A real Neutron API server for tests (neutron.sh: Debian's python3-neutron, noauth, sqlite), and
 * a small client to create networks, subnets, ports, routers and floating IPs through its API.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port';

const NEUTRON_SH = join(dirname(fileURLToPath(import.meta.url)), 'neutron.sh');
/** Every POST under noauth must name a project (docs/design.md, "The test harness"). */
export const PROJECT = 'acf923f29b4d4e0d8acfb1b2976dd480';

export interface NeutronStartOptions {
  /** oslo.config text read after the harness's own (neutron.sh: ROOT/extra.conf). */
  readonly extraConfig?: string;
  /** The server speaks TLS (`use_ssl` in extraConfig): `url` is https. */
  readonly https?: boolean;
}

export interface RealNeutron {
  readonly root: string;
  /** http://127.0.0.1:PORT, or https:// while started with `https`. */
  readonly url: string;
  api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** Stops the server, keeping its database. */
  stop(): void;
  /** Starts it again on the same port and database, with these settings (none: the harness's own). */
  start(options?: NeutronStartOptions): void;
  /** Stops it and removes its directory. */
  destroy(): void;
}

function sh(...args: string[]): void {
  const r = spawnSync('bash', [NEUTRON_SH, ...args], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
  if (r.status !== 0) throw new Error(`neutron.sh ${args.join(' ')} exited ${r.status ?? r.signal}`);
}

export async function startNeutron(): Promise<RealNeutron> {
  const root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-neutron-'));
  const port = await freePort();
  let scheme = 'http';
  let running = false;
  const n: RealNeutron = {
    root,
    get url() {
      return `${scheme}://127.0.0.1:${port}`;
    },
    async api(method, path, body) {
      const r = await fetch(`${n.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status}: ${text}`);
      return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    },
    stop() {
      sh('stop', root);
      running = false;
    },
    start(options = {}) {
      const extra = join(root, 'extra.conf');
      if (options.extraConfig === undefined) rmSync(extra, { force: true });
      else writeFileSync(extra, options.extraConfig);
      scheme = options.https ? 'https' : 'http';
      sh('start', root, String(port));
      running = true;
    },
    destroy() {
      if (running) n.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  process.once('exit', () => {
    if (running) spawnSync('bash', [NEUTRON_SH, 'stop', root]);
    rmSync(root, { recursive: true, force: true });
  });
  n.start();
  return n;
}
