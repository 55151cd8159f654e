/**
 * JSON over HTTP(S) for the OpenStack APIs, with Node's own `http`/`https`: `fetch` in Node 18
 * has no CA-file option without undici, and this keeps the bundle free of a client library.
 *
 * Each request has a timeout (connect to last byte); 5xx answers and connection failures are
 * retried with exponential backoff, other answers are final. Secrets: request headers (the token)
 * never appear in an error; errors name the method, the URL without its query string, and the
 * status. `requests` counts every request sent, retries included (the bench reads it).
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { InputError, SystemError, messageOf } from '../../errors';
import { errnoCode } from '../os-error';

export interface HttpOptions {
  /** PEM bundle to verify servers with, instead of Node's built-in CAs. */
  readonly caFile?: string | undefined;
  /** Per attempt, milliseconds. */
  readonly timeoutMs?: number;
  /** Attempts in all for 5xx and connection errors. */
  readonly attempts?: number;
  /** First backoff delay, doubled each retry. */
  readonly backoffMs?: number;
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

const MAX_BODY = 64 * 1024 * 1024;

export class HttpClient {
  requests = 0;
  private readonly ca: Buffer | undefined;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(opts: HttpOptions = {}) {
    if (opts.caFile !== undefined) {
      try {
        this.ca = readFileSync(opts.caFile);
      } catch (err) {
        throw new InputError(opts.caFile, `cannot read the CA file: ${errnoCode(err) ?? messageOf(err)}`);
      }
    }
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.attempts = Math.max(1, opts.attempts ?? 4);
    this.backoffMs = opts.backoffMs ?? 500;
  }

  /** Sends one request (retried as above); resolves with any final answer, 2xx or not. */
  async send(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string): Promise<HttpResponse> {
    let last: Error | undefined;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await sleep(this.backoffMs * 2 ** (attempt - 2));
      try {
        const r = await this.once(method, url, headers, body);
        if (r.status < 500) return r;
        last = new HttpStatusError(r.status, `${method} ${showUrl(url)}: HTTP ${r.status}${detail(r.body)}`);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        last = err;
      }
    }
    const message = `${last?.message ?? 'failed'} (after ${this.attempts} attempts)`;
    throw last instanceof HttpStatusError ? new HttpStatusError(last.status, message) : new SystemError(message);
  }

  /** GET that must answer 2xx with a JSON object. */
  async getJson(url: string, headers: Record<string, string>): Promise<Record<string, unknown>> {
    const r = await this.send('GET', url, { accept: 'application/json', ...headers });
    return expectJson(r, 'GET', url);
  }

  private once(method: string, url: string, headers: Record<string, string>, body?: string): Promise<HttpResponse> {
    this.requests++;
    const target = new URL(url);
    const mod = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (!mod) return Promise.reject(new InputError(showUrl(url), 'not an http or https URL'));
    return new Promise((resolve, reject) => {
      const req = mod.request(
        target,
        {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) },
          ...(this.ca ? { ca: this.ca } : {}),
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
            else chunks.push(c);
          });
          res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }); });
          res.on('error', (err) => { reject(new RetryableError(`${method} ${showUrl(url)}: ${err.message}`)); });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const why = err.code ?? err.message;
        // A TLS verification failure will not pass on retry: say so at once.
        if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(why)) {
          reject(new SystemError(`${method} ${showUrl(url)}: TLS verification failed (${why}); give the CA with --os-cacert or OS_CACERT`));
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
