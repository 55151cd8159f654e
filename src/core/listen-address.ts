/**
 * The address a server listens on, as written in the config file or on the command line:
 * `127.0.0.1:9949` or `[::1]:9949`. An IP literal is required: a host name could resolve to an
 * address nobody meant to expose, and an empty host would bind every interface.
 */
import { parseIp } from './ip';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The address, or a one-line reason it is not one. */
export function parseListenAddress(text: string): ListenAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const hint = `${JSON.stringify(text)} is not ADDRESS:PORT with an IP address (e.g. 127.0.0.1:9949, [::1]:9949)`;
  if (!m) return hint;
  const ip = parseIp(m[1] ?? m[2] ?? '');
  if (ip === undefined || (m[1] !== undefined) !== (ip.version === 6)) return hint;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `${JSON.stringify(text)}: the port must be 1 to 65535`;
  return { host: ip.address, port };
}

/** `127.0.0.1:9949`, `[::1]:9949`. */
export function formatListenAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
