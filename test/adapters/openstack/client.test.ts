/**
 * The HTTP, Keystone and Neutron adapters against small local servers: the token exchange
 * (password and application credential), the catalog, chunking, retries on 5xx, 401/403, TLS with
 * a CA file. The servers check what is sent; the real Neutron is in test/usecases/sync/neutron-sync.libvirt.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpClient } from '../../../src/adapters/openstack/http';
import { NeutronClient } from '../../../src/adapters/openstack/neutron';
import type { OpenStackConfig } from '../../../src/adapters/openstack/credentials';

const t = suite('openstack client');
const TOKEN = 'gAAAAA-secret-token';
const PASSWORD = 'pa$$-word-never-shown';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Handler = (req: Seen, res: http.ServerResponse) => void;

async function serve(handler: Handler, tls?: { key: Buffer; cert: Buffer }): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const listener: http.RequestListener = (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      handler(s, res);
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((r) => server.close(() => { r(); })),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const noauth = (endpoint: string): OpenStackConfig => ({ auth: { type: 'none' }, endpoint, region: undefined, interface: 'public', caFile: undefined, timeoutMs: undefined, source: 'test' });

t('5xx is retried with backoff, then succeeds; every attempt is counted', async () => {
  let n = 0;
  const s = await serve((_req, res) => {
    n++;
    if (n < 3) json(res, 503, { NeutronError: { message: 'busy' } });
    else json(res, 200, { ok: true });
  });
  try {
    const c = new HttpClient({ backoffMs: 1 });
    assert.equal(await c.getJson(`${s.url}/x`, {}), { ok: true });
    assert.is(c.requests, 3);
  } finally {
    await s.close();
  }
});

t('persistent 5xx: an error with the status and the attempts; 4xx is not retried', async () => {
  const s = await serve((req, res) => {
    if (req.url.startsWith('/gone')) json(res, 403, { error: { message: 'policy' } });
    else json(res, 500, {});
  });
  try {
    const c = new HttpClient({ backoffMs: 1, attempts: 3 });
    try {
      await c.getJson(`${s.url}/v2.0/ports?device_id=abc`, {});
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /GET http:\/\/127\.0\.0\.1:\d+\/v2\.0\/ports: HTTP 500 \(after 3 attempts\)/);
      assert.not.match((err as Error).message, /device_id/, 'no query string in errors');
    }
    const before = c.requests;
    try {
      await c.getJson(`${s.url}/gone`, {});
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /HTTP 403: forbidden .*: policy/);
    }
    assert.is(c.requests, before + 1);
  } finally {
    await s.close();
  }
});

t('a connection refused is retried, then a clear error', async () => {
  const s = await serve(() => undefined);
  const url = s.url;
  await s.close();
  const c = new HttpClient({ backoffMs: 1, attempts: 2 });
  try {
    await c.getJson(`${url}/v2.0/ports`, {});
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /ECONNREFUSED \(after 2 attempts\)/);
  }
  assert.is(c.requests, 2);
});

/** A Keystone + Neutron pair: Keystone checks the credentials, Neutron the token. */
async function cloud(opts: { expired?: boolean } = {}) {
  let tokens = 0;
  let rejectOnce = opts.expired ?? false;
  const neutron = await serve((req, res) => {
    const resource = /^\/v2\.0\/(\w+)/.exec(req.url)?.[1] ?? '';
    if (req.headers['x-auth-token'] !== `${TOKEN}-${tokens}`) json(res, 401, { error: { message: 'bad token' } });
    else if (rejectOnce) {
      rejectOnce = false;
      json(res, 401, { error: { message: 'token expired' } });
    } else json(res, 200, { [resource]: [] });
  });
  const keystone = await serve((req, res) => {
    if (req.method !== 'POST' || req.url !== '/identity/v3/auth/tokens') {
      json(res, 404, {});
      return;
    }
    const body = JSON.parse(req.body) as { auth: { identity: { methods: string[]; password?: { user: { password: string } }; application_credential?: { secret: string } } } };
    const identity = body.auth.identity;
    const ok = identity.password?.user.password === PASSWORD || identity.application_credential?.secret === PASSWORD;
    if (!ok) {
      json(res, 401, { error: { message: 'The request you have made requires authentication.' } });
      return;
    }
    tokens++;
    json(
      res,
      201,
      {
        token: {
          catalog: [
            { type: 'identity', endpoints: [{ interface: 'public', region_id: 'R1', url: 'http://wrong' }] },
            {
              type: 'network',
              endpoints: [
                { interface: 'public', region_id: 'R1', url: 'http://wrong-public' },
                { interface: 'internal', region_id: 'R2', url: 'http://wrong-region' },
                { interface: 'internal', region_id: 'R1', url: `${neutron.url}/` },
              ],
            },
          ],
        },
      },
      { 'x-subject-token': `${TOKEN}-${tokens}` },
    );
  });
  return { neutron, keystone, close: async () => Promise.all([neutron.close(), keystone.close()]) };
}

t('password auth: the token exchange, the catalog endpoint (interface, region), the token on each request', async () => {
  const c = await cloud();
  try {
    const client = new NeutronClient({
      auth: { type: 'password', authUrl: `${c.keystone.url}/identity`, username: 'nova', userDomainName: 'Default', password: PASSWORD, projectName: 'service', projectDomainName: 'Default' },
      endpoint: undefined,
      region: 'R1',
      interface: 'internal',
      caFile: undefined,
      timeoutMs: undefined,
      source: 'test',
    });
    const v = await client.view(Array.from({ length: 120 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));
    assert.equal(v.ports, []);
    const body = JSON.parse(c.keystone.seen[0]?.body ?? '{}') as unknown;
    assert.equal(body, {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'nova', domain: { name: 'Default' }, password: PASSWORD } } },
        scope: { project: { name: 'service', domain: { name: 'Default' } } },
      },
    });
    assert.equal(
      c.neutron.seen.map((s) => [s.url.split('?')[0], (s.url.match(/device_id=/g) ?? []).length]),
      [
        ['/v2.0/ports', 50],
        ['/v2.0/ports', 50],
        ['/v2.0/ports', 20],
      ],
      'ports chunked by 50; no ports, so no further requests',
    );
    assert.is(client.http.requests, 4, 'one token, three port chunks');
  } finally {
    await c.close();
  }
});

t('application credential auth; an expired token is renewed once', async () => {
  const c = await cloud({ expired: true });
  try {
    const client = new NeutronClient({
      auth: { type: 'application_credential', authUrl: `${c.keystone.url}/identity/v3`, id: 'ac-id', secret: PASSWORD },
      endpoint: undefined,
      region: 'R1',
      interface: 'internal',
      caFile: undefined,
      timeoutMs: undefined,
      source: 'test',
    });
    assert.equal((await client.view(['00000000-0000-4000-8000-000000000001'])).ports, []);
    assert.equal(JSON.parse(c.keystone.seen[0]?.body ?? '{}'), {
      auth: { identity: { methods: ['application_credential'], application_credential: { id: 'ac-id', secret: PASSWORD } } },
    });
    assert.is(c.keystone.seen.length, 2, 'a second token after the 401');
  } finally {
    await c.close();
  }
});

t('wrong credentials: a clear 401 that shows neither the password nor a token', async () => {
  const c = await cloud();
  try {
    const client = new NeutronClient(
      {
        auth: { type: 'password', authUrl: `${c.keystone.url}/identity`, username: 'nova', userDomainName: 'Default', password: 'wrong-secret', projectName: 'service', projectDomainName: 'Default' },
        endpoint: undefined,
        region: undefined,
        interface: 'internal',
        caFile: undefined,
        timeoutMs: undefined,
        source: 'test',
      },
      { backoffMs: 1 },
    );
    try {
      await client.view(['00000000-0000-4000-8000-000000000001']);
      assert.unreachable();
    } catch (err) {
      const m = (err as Error).message;
      assert.match(m, /HTTP 401: Keystone rejected the user name or password/);
      assert.not.match(m, /wrong-secret|secret-token/);
    }
  } finally {
    await c.close();
  }
});

t('an endpoint that is not Neutron: 404 names the endpoint; a Keystone URL that is not Keystone too', async () => {
  const s = await serve((_req, res) => { json(res, 404, {}); });
  try {
    try {
      await new NeutronClient(noauth(`${s.url}/nope`)).view(['00000000-0000-4000-8000-000000000001']);
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /HTTP 404: not a Neutron API \(unknown endpoint http:\/\/127\.0\.0\.1:\d+\/nope, from test\)/);
    }
    try {
      await new NeutronClient({ ...noauth(''), endpoint: undefined, auth: { type: 'application_credential', authUrl: s.url, id: 'x', secret: 'y' } }).view(['a']);
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /not a Keystone v3 endpoint/);
    }
  } finally {
    await s.close();
  }
});

t('TLS: an unknown CA is refused at once, the CA file makes it work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const s = await serve((_req, res) => { json(res, 200, { ports: [] }); }, { key: readFileSync(key), cert: readFileSync(cert) });
    try {
      const plain = new NeutronClient(noauth(s.url), { backoffMs: 1 });
      try {
        await plain.view(['00000000-0000-4000-8000-000000000001']);
        assert.unreachable();
      } catch (err) {
        assert.match((err as Error).message, /TLS verification failed .*--os-cacert/);
      }
      assert.is(plain.http.requests, 1, 'not retried');
      const withCa = new NeutronClient({ ...noauth(s.url), caFile: cert });
      assert.equal((await withCa.view(['00000000-0000-4000-8000-000000000001'])).ports, []);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
