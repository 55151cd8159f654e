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
  const socket = options.client === 'auto' ? localSocket(options.uri) : undefined;
  if (socket) return new RemoteLibvirt({ socket, name: 'qemu:///system', timeoutMs });
  const { VirshLibvirt } = await import('../virsh/virsh-libvirt');
  return new VirshLibvirt({ uri: options.uri, commandTimeoutMs: timeoutMs });
}

/** The socket of the local system daemon that `uri` names, when it names one and the socket is there. */
export function localSocket(uri: string | undefined, conf: () => string | undefined = readLibvirtConf): string | undefined {
  if (uri === undefined) {
    // virsh's default is libvirt.conf's uri_default when it sets one.
    const text = conf();
    if (text !== undefined && /^\s*uri_default\s*=/m.test(text)) return undefined;
    return SYSTEM_SOCKETS.find((s) => existsSync(s));
  }
  const m = /^qemu(\+unix)?:\/\/\/system\/?(?:\?socket=([^&#]+))?$/.exec(uri);
  if (!m) return undefined;
  if (m[2] !== undefined) {
    const given = decoded(m[2]);
    return given?.startsWith('/') && existsSync(given) ? given : undefined;
  }
  return SYSTEM_SOCKETS.find((s) => existsSync(s));
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
