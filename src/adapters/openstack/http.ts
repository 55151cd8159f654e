/**
 * JSON over HTTP(S) for the OpenStack APIs, with Node's own `http`/`https`: `fetch` in Node 18
 * has no CA-file option without undici, and this keeps the bundle free of a client library.
 *
 * Time is bounded twice: each request has a hard deadline from connect to last byte (an idle
 * timeout would let a server that drips a byte now and then hold a request forever), and a
 * `Budget` bounds everything a caller does with the client (a whole `cache sync`): no request,
 * retry or backoff outlives it. 5xx answers and connection failures are retried with
 * exponential backoff; an answer that took too long is not (a slow server stays slow); other
 * answers are final. One keep-alive connection per server serves a run's requests.
 *
 * Secrets: request headers (the token) never appear in an error; errors name the method, the
 * URL without its query string, and the status. `requests`, `bytesSent` and `bytesReceived`
 * count what went over the wire, retries included (the bench reads them).
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { InputError, SystemError, messageOf } from '../../errors';
import { errnoCode } from '../os-error';
import type { TlsOptions } from './credentials';

export interface HttpOptions {
  readonly tls?: TlsOptions | undefined;
  /** Each request's deadline, connect to last byte, milliseconds. */
  readonly timeoutMs?: number | undefined;
  /** Attempts in all for 5xx and connection errors. */
  readonly attempts?: number | undefined;
  /** First backoff delay, doubled each retry. */
  readonly backoffMs?: number | undefined;
  /** What all of this client's requests together may take. */
  readonly budget?: Budget | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** An answer that is final and not 2xx; carries the status so callers can tell 401 from 404. */
export class HttpStatusError extends SystemError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

/** Time for a whole piece of work (a sync), shared by its requests. */
export class Budget {
  readonly endsAt: number;
  constructor(
    readonly ms: number,
    readonly what: string,
    now = Date.now(),
  ) {
    this.endsAt = now + ms;
  }
  remaining(): number {
    return this.endsAt - Date.now();
  }
  exhausted(): SystemError {
    return new SystemError(`${this.what} took longer than its budget of ${seconds(this.ms)}`);
  }
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_BODY = 64 * 1024 * 1024;

export class HttpClient {
  requests = 0;
  bytesSent = 0;
  bytesReceived = 0;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly budget: Budget | undefined;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly httpsAgent: https.Agent;

  constructor(opts: HttpOptions = {}) {
    const tls = opts.tls;
    const file = (path: string | undefined, what: string) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new InputError(path, `cannot read the ${what}: ${errnoCode(err) ?? messageOf(err)}`);
      }
    };
    const ca = tls?.insecure ? undefined : file(tls?.caFile, 'CA file');
    const cert = file(tls?.certFile, 'client certificate');
    const key = file(tls?.keyFile, 'client key');
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      ...(ca ? { ca } : {}),
      ...(cert && key ? { cert, key } : {}),
      rejectUnauthorized: !tls?.insecure,
    });
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.attempts = Math.max(1, opts.attempts ?? 4);
    this.backoffMs = opts.backoffMs ?? 500;
    this.budget = opts.budget;
  }

  /** Closes the kept-alive connections; the client may still be used (it reconnects). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Sends one request (retried as above); resolves with any final answer, 2xx or not. */
  async send(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string): Promise<HttpResponse> {
    let last: Error | undefined;
    let made = 0;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) {
        const delay = this.backoffMs * 2 ** (attempt - 2);
        if (this.budget && this.budget.remaining() < delay) break;
        await sleep(delay);
      }
      made++;
      try {
        const r = await this.once(method, url, headers, body);
        if (r.status < 500) return r;
        last = new HttpStatusError(r.status, `${method} ${showUrl(url)}: HTTP ${r.status}${detail(r.body)}`);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        last = err;
      }
    }
    const message = `${last?.message ?? 'failed'} (after ${made} attempts)`;
    throw last instanceof HttpStatusError ? new HttpStatusError(last.status, message) : new SystemError(message);
  }

  /** GET that must answer 2xx with a JSON object; its Date header, when there is one. */
  async getJson(url: string, headers: Record<string, string>): Promise<{ json: Record<string, unknown>; date: Date | undefined }> {
    const r = await this.send('GET', url, { accept: 'application/json', ...headers });
    return { json: expectJson(r, 'GET', url), date: dateOf(r) };
  }

  private once(method: string, url: string, headers: Record<string, string>, body?: string): Promise<HttpResponse> {
    const target = new URL(url);
    const mod = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (!mod) return Promise.reject(new InputError(showUrl(url), 'not an http or https URL'));
    const left = this.budget?.remaining();
    if (left !== undefined && left <= 0) return Promise.reject(this.budget?.exhausted() ?? new SystemError('out of time'));
    const byBudget = left !== undefined && left < this.timeoutMs;
    const deadlineMs = byBudget ? left : this.timeoutMs;
    this.requests++;
    return new Promise((resolve, reject) => {
      let socket: Socket | undefined;
      let sentBefore = 0;
      let readBefore = 0;
      const count = () => {
        if (!socket) return;
        this.bytesSent += socket.bytesWritten - sentBefore;
        this.bytesReceived += socket.bytesRead - readBefore;
        sentBefore = socket.bytesWritten;
        readBefore = socket.bytesRead;
      };
      const req = mod.request(
        target,
        {
          method,
          agent: target.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) req.destroy(new SystemError(`${method} ${showUrl(url)}: an answer larger than ${MAX_BODY} bytes`));
            else chunks.push(c);
          });
          res.on('end', () => {
            clearTimeout(timer);
            count();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', (err) => {
            clearTimeout(timer);
            count();
            reject(err instanceof SystemError ? err : new RetryableError(`${method} ${showUrl(url)}: ${err.message}`));
          });
        },
      );
      req.on('socket', (s: Socket) => {
        socket = s;
        sentBefore = s.bytesWritten;
        readBefore = s.bytesRead;
      });
      // A hard deadline, whatever trickles in meanwhile: the whole answer, or an error.
      const timer = setTimeout(() => {
        req.destroy(byBudget ? (this.budget?.exhausted() ?? new SystemError('out of time')) : new SystemError(`${method} ${showUrl(url)}: no complete answer within ${seconds(deadlineMs)}`));
      }, deadlineMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        count();
        if (err instanceof SystemError) {
          reject(err);
          return;
        }
        const why = err.code ?? err.message;
        if (/ALERT/.test(why)) {
          reject(new SystemError(`${method} ${showUrl(url)}: the server refused the TLS handshake (${why}); does it want a client certificate (certfile and keyfile)?`));
        } else if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(why)) {
          // A TLS verification failure will not pass on retry: say so at once.
          reject(new SystemError(`${method} ${showUrl(url)}: TLS verification failed (${why}); give the CA file (cafile, cacert, --os-cacert or OS_CACERT)`));
        } else reject(new RetryableError(`${method} ${showUrl(url)}: ${why}`));
      });
      req.end(body);
    });
  }
}

class RetryableError extends SystemError {}

export function expectJson(r: HttpResponse, method: string, url: string): Record<string, unknown> {
  if (r.status < 200 || r.status > 299) {
    const hint =
      r.status === 401
        ? ': not authenticated (credentials or token rejected)'
        : r.status === 403
          ? ': forbidden (the credentials lack the role this needs)'
          : r.status === 404
            ? ': not found (is this the right endpoint?)'
            : '';
    throw new HttpStatusError(r.status, `${method} ${showUrl(url)}: HTTP ${r.status}${hint}${detail(r.body)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(r.body);
  } catch {
    throw new SystemError(`${method} ${showUrl(url)}: the answer is not JSON`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new SystemError(`${method} ${showUrl(url)}: the answer is not a JSON object`);
  return json as Record<string, unknown>;
}

/** The server's clock when it answered (RFC 9110 Date header), if it said. */
export function dateOf(r: HttpResponse): Date | undefined {
  const text = r.headers.date;
  if (text === undefined) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The URL as errors show it: no query string (long id lists) and no user:password part. */
export function showUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** The server's own one-line reason, when it gives one (Neutron and Keystone: {"error"|"NeutronError": {"message"}}). */
function detail(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, { message?: unknown } | undefined>;
    const m = j.NeutronError?.message ?? j.error?.message;
    return typeof m === 'string' ? `: ${m.replace(/\s+/g, ' ').slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
