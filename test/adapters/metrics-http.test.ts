/** The /metrics server on real sockets: what it answers, where it listens, and where it does not. */
import { request } from 'node:http';
import { createServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serveMetrics, type MetricsServer } from '../../src/adapters/metrics-http';
import { freePort } from '../support/free-port';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function ask(url: string, method = 'GET', host?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: host ?? u.hostname, port: u.port, path: u.pathname + u.search, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const logged: string[] = [];
let renders = 0;
let failRender = false;
async function start(port = 0): Promise<MetricsServer> {
  return serveMetrics({
    address: { host: '127.0.0.1', port },
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    render: () => {
      renders++;
      return failRender ? Promise.reject(new Error('state directory gone')) : Promise.resolve(`nova_ipmeta_x ${renders}\n`);
    },
    log: (l) => logged.push(l),
  });
}

test('GET /metrics renders anew on every scrape, in the Prometheus text format', async () => {
  const s = await start();
  try {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const a = await ask(s.url);
    const b = await ask(`${s.url}?x=1`);
    assert.is(a.status, 200);
    assert.is(a.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.is(a.body, 'nova_ipmeta_x 1\n');
    assert.is(b.body, 'nova_ipmeta_x 2\n');
    const head = await ask(s.url, 'HEAD');
    assert.is(head.status, 200);
    assert.is(head.body, '');
  } finally {
    await s.close();
  }
});

test('other paths are 404, other methods 405, a failed render 500 with the reason logged, not sent', async () => {
  const s = await start();
  try {
    assert.is((await ask(s.url.replace('/metrics', '/'))).status, 404);
    assert.is((await ask(s.url.replace('/metrics', '/metrics/x'))).status, 404);
    const post = await ask(s.url, 'POST');
    assert.is(post.status, 405);
    assert.is(post.headers.allow, 'GET, HEAD');
    failRender = true;
    const failed = await ask(s.url);
    assert.is(failed.status, 500);
    assert.not.match(failed.body, /state directory/);
    assert.ok(logged.some((l) => l.includes('state directory gone')), logged.join('\n'));
  } finally {
    failRender = false;
    await s.close();
  }
});

test('bound to the configured address only: another loopback address is refused', async () => {
  const s = await start();
  try {
    const port = new URL(s.url).port;
    assert.match((await rejection(ask(`http://127.0.0.2:${port}/metrics`))).message, /ECONNREFUSED/);
  } finally {
    await s.close();
  }
});

test('an address in use: one line naming it; close lets the port go', async () => {
  const port = await freePort();
  const other = createServer();
  await new Promise<void>((r) => other.listen(port, '127.0.0.1', r));
  try {
    assert.is((await rejection(start(port))).message, `cannot serve /metrics on 127.0.0.1:${port}: EADDRINUSE (address already in use)`);
  } finally {
    await new Promise((r) => other.close(r));
  }
  const s = await start(port);
  await s.close();
  const again = await start(port);
  await again.close();
});

test.run();
