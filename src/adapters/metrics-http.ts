/**
 * `/metrics` over HTTP (node:http), for a Prometheus that cannot read node_exporter's textfile
 * directory (kolla's node_exporter has none). Bound to the one configured address, GET and HEAD
 * of `/metrics` only, small bounded requests (no body is read), the exposition rendered per
 * request by the caller.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { SystemError, messageOf } from '../errors';
import { formatListenAddress, type ListenAddress } from '../core/listen-address';
import { errnoText } from './os-error';

export interface MetricsServerOptions {
  readonly address: ListenAddress;
  readonly contentType: string;
  readonly render: () => Promise<string>;
  /** One line per failed render. */
  readonly log: (line: string) => void;
}

export interface MetricsServer {
  /** `http://ADDRESS:PORT/metrics`, the port as bound (0 in the options: any free port). */
  readonly url: string;
  close(): Promise<void>;
}

/** A scraper that holds a connection open longer gets cut off; Prometheus's own timeout is 10 s. */
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
const MAX_CONNECTIONS = 16;

/** Resolves once listening; throws SystemError naming the address when it cannot be bound. */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    respond(req, res, options).catch((err: unknown) => {
      options.log(`/metrics: ${messageOf(err)}`);
      res.destroy();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  const where = formatListenAddress(options.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      reject(new SystemError(`cannot serve /metrics on ${where}: ${errnoText(err)}`, { cause: err }));
    });
    server.listen({ host: options.address.host, port: options.address.port, exclusive: true }, resolve);
  });
  server.on('error', (err) => {
    options.log(`/metrics on ${where}: ${messageOf(err)}`);
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : options.address.port;
  return {
    url: `http://${formatListenAddress({ host: options.address.host, port })}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

async function respond(req: IncomingMessage, res: ServerResponse, options: MetricsServerOptions): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/metrics') {
    send(res, 404, 'not found: the metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'method not allowed\n');
    return;
  }
  let body: string;
  try {
    body = await options.render();
  } catch (err) {
    options.log(`/metrics: ${messageOf(err)}`);
    send(res, 500, "cannot render the metrics (the watcher's log says why)\n");
    return;
  }
  res.writeHead(200, { 'Content-Type': options.contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
