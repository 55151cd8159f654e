/**
 * libvirt's event stream, kept open: one `virsh event` process (adapters/virsh/events), reopened
 * with backoff whenever it ends (the daemon stopped or restarted), until the signal aborts.
 *
 * virsh says nothing once it has connected; a stream still alive after `settleMs` has (one that
 * cannot connect exits at once), and only then does the backoff start over. Every (re)connection
 * is reported through `onConnected`, since events were missed until then.
 *
 * A local daemon's socket appearing cuts a backoff short: a daemon restart is caught up with as
 * soon as the new daemon listens, not when a backoff that has grown meanwhile ends.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemError } from '../../errors';
import { openEventStream, type EventStream, type EventStreamEnd } from '../../adapters/virsh/events';
import type { VirshEvent } from '../../adapters/virsh/event-line';

export interface EventSourceOptions {
  readonly uri: string | undefined;
  readonly onEvent: (event: VirshEvent) => void;
  readonly onConnected: (first: boolean) => void;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal;
  readonly settleMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
}

/** Resolves once the signal has aborted and the stream is stopped; throws only when virsh cannot run at all. */
export async function superviseEvents(options: EventSourceOptions): Promise<void> {
  const { signal } = options;
  // A function, not the property: the checks below must read it anew after every await.
  const aborted = () => signal.aborted;
  const stopped = new Promise<void>((resolve) => {
    if (aborted()) resolve();
    else
      signal.addEventListener(
        'abort',
        () => {
          resolve();
        },
        { once: true },
      );
  });
  const delay = (ms: number) => sleep(ms, undefined, { signal }).catch(() => undefined);
  const socket = daemonSocketOf(options.uri);
  let backoff = options.backoffMinMs;
  let connections = 0;
  let stream: EventStream | undefined;
  try {
    while (!aborted()) {
      stream = openEventStream({ uri: options.uri, onEvent: options.onEvent });
      if (stream.pid === undefined) throw new SystemError(`cannot run virsh for the event stream: ${(await stream.ended).message}`);
      const early = await Promise.race([stream.ended, delay(options.settleMs).then(() => undefined)]);
      let what = 'cannot open the event stream';
      if (early === undefined && !aborted()) {
        backoff = options.backoffMinMs;
        what = 'event stream ended';
        options.onConnected(connections++ === 0);
        await Promise.race([stream.ended, stopped]);
      }
      if (aborted()) break;
      options.log(`${what} (${describeEnd(await stream.ended)}); reconnecting in ${formatSeconds(backoff)}`);
      stream = undefined;
      await untilSocketOr(socket, delay(backoff));
      backoff = Math.min(backoff * 2, options.backoffMaxMs);
    }
  } finally {
    await stream?.stop();
  }
}

/** The sockets of the system daemon: the monolithic libvirtd's and the modular virtqemud's. */
const SYSTEM_SOCKETS = { dir: '/run/libvirt', names: ['libvirt-sock', 'virtqemud-sock'] };

/**
 * Where a local daemon named by the URI listens (undefined: virsh's default, root's system
 * daemon); undefined for a remote or session URI.
 */
export function daemonSocketOf(uri: string | undefined): { readonly dir: string; readonly names: readonly string[] } | undefined {
  if (uri === undefined) return SYSTEM_SOCKETS;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.host !== '' || (url.protocol !== 'qemu:' && url.protocol !== 'qemu+unix:')) return undefined;
  const socket = url.searchParams.get('socket');
  if (socket) return { dir: dirname(socket), names: [basename(socket)] };
  return url.pathname.replace(/\/$/, '') === '/system' ? SYSTEM_SOCKETS : undefined;
}

/** `wait`, or less when one of the sockets is created meanwhile (a directory that cannot be watched: `wait`). */
async function untilSocketOr(socket: ReturnType<typeof daemonSocketOf>, wait: Promise<void>): Promise<void> {
  let watcher: FSWatcher | undefined;
  const appeared = new Promise<void>((resolve) => {
    if (!socket) return;
    try {
      watcher = watch(socket.dir, { persistent: false }, (_event, name) => {
        if (name !== null && socket.names.includes(name)) resolve();
      });
      watcher.on('error', () => undefined);
    } catch {
      // No such directory yet (no daemon ever ran): the backoff alone.
    }
  });
  try {
    await Promise.race([wait, appeared]);
  } finally {
    watcher?.close();
  }
}

function describeEnd(end: EventStreamEnd): string {
  const how = end.signal ? `signal ${end.signal}` : `status ${end.exitCode ?? '?'}`;
  return end.message ? `${how}: ${end.message}` : how;
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
