/**
 * A real Keystone for tests (keystone.sh: Debian's python3-keystone, sqlite, fernet), bootstrapped
 * with user `admin` in project `admin` (domain Default, region RegionOne), and a small admin client.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port';

const KEYSTONE_SH = join(dirname(fileURLToPath(import.meta.url)), 'keystone.sh');

export interface RealKeystone {
  readonly url: string;
  readonly password: string;
  /** A request with an admin token (fetched once); an empty answer is {}. */
  api(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers?: Record<string, string>): Promise<Record<string, unknown>>;
  readonly adminUserId: () => Promise<string>;
  /** Stops it, keeping its database and keys; `start` brings it back on the same port. */
  stop(): void;
  start(): void;
  destroy(): void;
}

export async function startKeystone(): Promise<RealKeystone> {
  const root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-keystone-'));
  const port = await freePort();
  const password = `pw-${randomBytes(9).toString('hex')}`;
  const start = () => {
    const r = spawnSync('bash', [KEYSTONE_SH, 'start', root, String(port), password], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
    if (r.status !== 0) throw new Error(`keystone.sh start exited ${r.status ?? r.signal}`);
  };
  start();
  const stop = () => spawnSync('bash', [KEYSTONE_SH, 'stop', root]);
  process.once('exit', () => {
    stop();
    rmSync(root, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  let token: { value: string; userId: string } | undefined;
  const login = async () => {
    const res = await fetch(`${url}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } },
          scope: { project: { name: 'admin', domain: { name: 'Default' } } },
        },
      }),
    });
    if (res.status !== 201) throw new Error(`admin login: HTTP ${res.status}`);
    const body = (await res.json()) as { token: { user: { id: string } } };
    return { value: res.headers.get('x-subject-token') ?? '', userId: body.token.user.id };
  };
  const k: RealKeystone = {
    url,
    password,
    async api(method, path, body, headers = {}) {
      token ??= await login();
      // sqlite under Keystone's development server now and then answers "database is locked"
      // (HTTP 500) to a write: tried again, a few times. A lock that outlasts two tries is held by
      // a transaction the server left open (its keystone.out shows it): a restart of the server
      // (same database, keys and port) lets it go.
      for (let attempt = 1; ; attempt++) {
        if (attempt === 3) {
          stop();
          start();
        }
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', 'x-auth-token': (token ??= await login()).value, ...headers },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        if (res.ok) return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
        if (res.status !== 500 || attempt === 5) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}${res.status === 500 ? `\nkeystone.log ends:\n${logTail()}` : ''}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    },
    async adminUserId() {
      token ??= await login();
      return token.userId;
    },
    stop() {
      stop();
    },
    start,
    destroy() {
      stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return k;

  /** Keystone's own account of a 500. */
  function logTail(): string {
    try {
      const tail = (name: string, n: number) => readFileSync(join(root, name), 'utf8').split('\n').slice(-n).join('\n');
      return `${tail('keystone.log', 8)}\nkeystone.out ends:\n${tail('keystone.out', 30)}`;
    } catch {
      return '(no keystone.log)';
    }
  }
}
