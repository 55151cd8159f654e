/**
 * Which way the libvirt calls travel (docs/design.md, "libvirt's RPC"). libvirt's own
 * socket, in its RPC, when the URI is the local system daemon's (`qemu:///system`, given or
 * virsh's default, with or without `?socket=`) and that socket is there: a call is then one round
 * trip inside this process. virsh otherwise (a remote URI, another driver, a `uri_default` in
 * libvirt.conf, no socket), or when the config says `[libvirt] client = virsh`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { errnoCode } from '../os-error';
import { defaultTimeoutMs, type Libvirt } from './libvirt';
import { RemoteLibvirt } from './rpc/remote';

export type LibvirtClient = 'auto' | 'virsh';

/** libvirt's client picks the modular daemon's socket when it is there, else libvirtd's (remote_sockets.c). */
const SYSTEM_SOCKETS = ['/run/libvirt/virtqemud-sock', '/run/libvirt/libvirt-sock'];
/** The file where root's default URI may be set (libvirt.conf(5)). */
const LIBVIRT_CONF = '/etc/libvirt/libvirt.conf';

export interface OpenOptions {
  readonly uri: string | undefined;
  readonly client: LibvirtClient;
  /** Time allowed to one call, in ms; defaultTimeoutMs() when not given. */
  readonly timeoutMs?: number;
}

export async function openLibvirt(options: OpenOptions): Promise<Libvirt> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs();
  const route = libvirtRoute(options.uri, options.client);
  if (route.kind === 'socket') return new RemoteLibvirt({ socket: route.socket, name: 'qemu:///system', timeoutMs });
  const { VirshLibvirt } = await import('../virsh/virsh-libvirt');
  return new VirshLibvirt({ uri: options.uri, commandTimeoutMs: timeoutMs });
}

/** Which way the calls go, and for virsh why (for `doctor`). */
export type LibvirtRoute = { readonly kind: 'socket'; readonly socket: string } | { readonly kind: 'virsh'; readonly why: string };

/** The socket of the local system daemon that `uri` names, when it names one and the socket is there; virsh otherwise. */
export function libvirtRoute(uri: string | undefined, client: LibvirtClient, conf: () => string | undefined = readLibvirtConf): LibvirtRoute {
  if (client === 'virsh') return { kind: 'virsh', why: '[libvirt] client = virsh' };
  const systemSocket = (): LibvirtRoute => {
    const socket = SYSTEM_SOCKETS.find((s) => existsSync(s));
    return socket ? { kind: 'socket', socket } : { kind: 'virsh', why: `no socket at ${SYSTEM_SOCKETS.join(' or ')}` };
  };
  if (uri === undefined) {
    // virsh's default is libvirt.conf's uri_default when it sets one.
    const text = conf();
    if (text !== undefined && /^\s*uri_default\s*=/m.test(text)) return { kind: 'virsh', why: `${LIBVIRT_CONF} sets uri_default` };
    return systemSocket();
  }
  const m = /^qemu(\+unix)?:\/\/\/system\/?(?:\?socket=([^&#]+))?$/.exec(uri);
  if (!m) return { kind: 'virsh', why: `${uri} is not the local system daemon` };
  if (m[2] === undefined) return systemSocket();
  const given = decoded(m[2]);
  if (!given?.startsWith('/')) return { kind: 'virsh', why: `${uri}: the socket is not an absolute path` };
  return existsSync(given) ? { kind: 'socket', socket: given } : { kind: 'virsh', why: `no socket at ${given}` };
}

function readLibvirtConf(): string | undefined {
  try {
    return readFileSync(LIBVIRT_CONF, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    // Unreadable: whatever it says, virsh reads it.
    return 'uri_default = unknown';
  }
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined; // malformed: virsh says what is wrong with it
  }
}
