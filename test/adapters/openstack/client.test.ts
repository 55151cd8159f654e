/**
 * The HTTP, Keystone and Neutron adapters against small local servers: the token exchange
 * (password and application credential), the catalog, chunking, retries on 5xx, 401/403, TLS with
 * a CA file. The servers check what is sent; the real Neutron is in test/usecases/sync/neutron-sync.libvirt.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Budget, HttpClient } from '../../../src/adapters/openstack/http';
import { NeutronClient } from '../../../src/adapters/openstack/neutron';
import { TokenCache, TOKEN_FILE } from '../../../src/adapters/openstack/token-cache';
import { readPort } from '../../../src/core/neutron-answers';
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

const NO_TLS = { caFile: undefined, insecure: false, certFile: undefined, keyFile: undefined };
const noauth = (endpoint: string): OpenStackConfig => ({ auth: { type: 'none' }, endpoint, region: undefined, interfaces: ['public'], serviceType: 'network', serviceName: undefined, tls: NO_TLS, timeoutMs: undefined, source: 'test' });
const keystone = (auth: OpenStackConfig['auth'], over: Partial<OpenStackConfig> = {}): OpenStackConfig => ({ ...noauth(''), endpoint: undefined, auth, region: 'R1', interfaces: ['internal'], ...over });

t('5xx is retried with backoff, then succeeds; every attempt is counted', async () => {
  let n = 0;
  const s = await serve((_req, res) => {
    n++;
    if (n < 3) json(res, 503, { NeutronError: { message: 'busy' } });
    else json(res, 200, { ok: true });
  });
  try {
    const c = new HttpClient({ backoffMs: 1 });
    assert.equal((await c.getJson(`${s.url}/x`, {})).json, { ok: true });
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
async function cloud(opts: { expired?: boolean; lifetimeS?: number } = {}) {
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
          issued_at: new Date().toISOString(),
          expires_at: new Date(Date.now() + (opts.lifetimeS ?? 3600) * 1000).toISOString(),
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
    const client = new NeutronClient(keystone({ type: 'password', authUrl: `${c.keystone.url}/identity`, username: 'nova', userDomainName: 'Default', password: PASSWORD, projectName: 'service', projectDomainName: 'Default' }));
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
    const client = new NeutronClient(keystone({ type: 'application_credential', authUrl: `${c.keystone.url}/identity/v3`, id: 'ac-id', secret: PASSWORD }));
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
    const client = new NeutronClient(keystone({ type: 'password', authUrl: `${c.keystone.url}/identity`, username: 'nova', userDomainName: 'Default', password: 'wrong-secret', projectName: 'service', projectDomainName: 'Default' }, { region: undefined }), { backoffMs: 1 });
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
        assert.match((err as Error).message, /TLS verification failed .*cafile, cacert, --os-cacert or OS_CACERT/);
      }
      assert.is(plain.http.requests, 1, 'not retried');
      const withCa = new NeutronClient({ ...noauth(s.url), tls: { ...NO_TLS, caFile: cert } });
      assert.equal((await withCa.view(['00000000-0000-4000-8000-000000000001'])).ports, []);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const ONE = ['00000000-0000-4000-8000-000000000001'];

t('valid_interfaces tried in order: the first one the catalog has an endpoint for (in the region)', async () => {
  const c = await cloud();
  try {
    const auth = { type: 'application_credential', authUrl: `${c.keystone.url}/identity`, id: 'ac', secret: PASSWORD } as const;
    // no admin endpoint: internal, the next one, is used
    const client = new NeutronClient(keystone(auth, { interfaces: ['admin', 'internal', 'public'] }));
    assert.equal((await client.view(ONE)).ports, []);
    assert.is(c.neutron.seen.length, 1);
    try {
      await new NeutronClient(keystone(auth, { interfaces: ['admin'] })).view(ONE);
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /no admin network endpoint in region "R1" in Keystone's catalog/);
    }
  } finally {
    await c.close();
  }
});

t('the token cache: one token for many runs, 0600, renewed before expiry, on 401, and for other credentials', async () => {
  const c = await cloud();
  const state = mkdtempSync(join(tmpdir(), 'nova-ipmeta-token-'));
  chmodSync(state, 0o700);
  try {
    const auth: OpenStackConfig['auth'] & { type: 'application_credential' } = { type: 'application_credential', authUrl: `${c.keystone.url}/identity`, id: 'ac', secret: PASSWORD };
    const run = async (a: typeof auth = auth, marginMs = 60_000) => {
      const client = new NeutronClient(keystone(a), { tokens: new TokenCache(state, a), tokenMarginMs: marginMs, backoffMs: 1 });
      try {
        await client.view(ONE);
        return client.tokensIssued;
      } finally {
        client.close();
      }
    };
    assert.is(await run(), 1);
    const file = join(state, TOKEN_FILE);
    assert.is(statSync(file).mode & 0o777, 0o600);
    assert.is(await run(), 0, 'the cached token');
    assert.is(await run(), 0);
    assert.is(c.keystone.seen.length, 1);
    // an hour-long token with ten seconds left
    const expiring = readFileSync(file, 'utf8')
      .replace(/"expires_at":\d+/, `"expires_at":${Date.now() + 10_000}`)
      .replace(/"issued_at":\d+/, `"issued_at":${Date.now() - 3590_000}`);
    writeFileSync(file, expiring, { mode: 0o600 });
    assert.is(await run(), 1, 'too close to its expiry: a new one');
    assert.is(await run(), 0);
    assert.is(await run({ ...auth, id: 'other' }), 1, 'other credentials never use it');
    // revoked early: Neutron says 401, one new token, cached again
    writeFileSync(file, readFileSync(file, 'utf8').replace(/"token":"[^"]*"/, '"token":"revoked"'), { mode: 0o600 });
    assert.is(await run({ ...auth, id: 'other' }), 1);
    assert.is(await run({ ...auth, id: 'other' }), 0);
    // a file others could have written is not trusted
    chmodSync(file, 0o666);
    assert.is(await run({ ...auth, id: 'other' }), 1);
    assert.is(statSync(file).mode & 0o777, 0o600, 'replaced by our own');
  } finally {
    rmSync(state, { recursive: true, force: true });
    await c.close();
  }
});

t('pages: every next link followed on our own endpoint; a link that loops is an error', async () => {
  const port = (i: number) => ({ id: `00000000-0000-4000-8000-00000000000${i}`, mac_address: `fa:16:3e:00:00:0${i}`, network_id: 'n', device_id: 'd', fixed_ips: [] });
  const s = await serve((req, res) => {
    const u = new URL(req.url, 'http://x');
    const marker = u.searchParams.get('marker');
    if (u.searchParams.get('loop')) json(res, 200, { ports: [port(1)], ports_links: [{ rel: 'next', href: `http://elsewhere:9696/v2.0/ports?loop=1&marker=m` }] });
    else if (marker === null) json(res, 200, { ports: [port(1)], ports_links: [{ rel: 'next', href: `https://proxy.example:443/v2.0/ports?${u.searchParams.toString()}&marker=p1` }] });
    else if (marker === 'p1') json(res, 200, { ports: [port(2)], ports_links: [{ rel: 'previous', href: 'x' }, { rel: 'next', href: `/v2.0/ports?${u.searchParams.toString().replace('marker=p1', 'marker=p2')}` }] });
    else json(res, 200, { ports: [port(3)], ports_links: [{ rel: 'previous', href: 'x' }] });
  });
  try {
    const client = new NeutronClient(noauth(s.url));
    const ports = await client.list('ports', readPort, [], 'device_id', ['d']);
    assert.equal(ports.map((p) => p.mac_address), ['fa:16:3e:00:00:01', 'fa:16:3e:00:00:02', 'fa:16:3e:00:00:03']);
    assert.equal(s.seen.map((r) => new URL(r.url, 'http://x').searchParams.getAll('device_id')), [['d'], ['d'], ['d']], 'the filter kept on every page');
    try {
      await client.list('ports', readPort, [['loop', '1']]);
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /next links go round in circles/);
    }
  } finally {
    await s.close();
  }
});

t('a server that drips its answer meets the per-request deadline; a slow one the budget', async () => {
  const timers: NodeJS.Timeout[] = [];
  const s = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url.startsWith('/drip')) {
      res.write('{"ports": [');
      timers.push(setInterval(() => res.write(' '), 100));
    } else setTimeout(() => res.end('{"ports": []}'), 400);
  });
  try {
    const drip = new HttpClient({ timeoutMs: 700, attempts: 3, backoffMs: 1 });
    try {
      await drip.getJson(`${s.url}/drip`, {});
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /^GET http:\/\/127\.0\.0\.1:\d+\/drip: no complete answer within 0\.7 s$/);
    }
    assert.is(drip.requests, 1, 'not retried: a slow server stays slow');
    const budget = new Budget(1000, 'cache sync');
    const slow = new HttpClient({ budget });
    await slow.getJson(`${s.url}/slow`, {});
    await slow.getJson(`${s.url}/slow`, {});
    try {
      await slow.getJson(`${s.url}/slow`, {});
      await slow.getJson(`${s.url}/slow`, {});
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /^cache sync took longer than its budget of 1 s$/);
    }
    slow.close();
    drip.close();
  } finally {
    for (const timer of timers) clearInterval(timer);
    s.close().catch(() => undefined);
  }
});

t('a malformed answer is an error naming the item and field, on any page', async () => {
  const good = { id: '00000000-0000-4000-8000-000000000001', mac_address: 'fa:16:3e:00:00:01', network_id: 'n', device_id: 'd', fixed_ips: [{ subnet_id: 's', ip_address: '10.0.0.1' }] };
  const answers: Record<string, unknown> = {
    '/id': { ports: [{ ...good, id: 12345 }] },
    '/null': { ports: [good, null] },
    '/ip': { ports: [{ ...good, fixed_ips: [{ subnet_id: 's', ip_address: '10.0.0.999' }] }] },
    '/list': { ports: { a: 1 } },
    '/page2': { ports: [good], ports_links: [{ rel: 'next', href: '/page2?marker=x' }] },
  };
  const s = await serve((req, res) => {
    if (req.url.includes('marker=x')) json(res, 200, { ports: [{ ...good, mac_address: 'not-a-mac' }] });
    else json(res, 200, answers[req.url.split('/v2.0/')[0] ?? ''] ?? {});
  });
  try {
    const cases: [string, RegExp][] = [
      ['/id', /Neutron's answer: ports\[0\]\.id: 12345 is not a UUID$/],
      ['/null', /Neutron's answer: ports\[1\]: null is not an object$/],
      ['/ip', /ports\[0\]\.fixed_ips\[0\]\.ip_address: "10\.0\.0\.999" is not an IP address$/],
      ['/list', /Neutron's answer: ports: missing, or not a list$/],
      ['/page2', /\(page 2\): Neutron's answer: ports\[0\]\.mac_address: "not-a-mac" is not a MAC address$/],
    ];
    for (const [path, message] of cases) {
      try {
        await new NeutronClient(noauth(`${s.url}${path}`)).list('ports', readPort, []);
        assert.unreachable(path);
      } catch (err) {
        assert.match((err as Error).message, message, path);
      }
    }
  } finally {
    await s.close();
  }
});

t.run();
