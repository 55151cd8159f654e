/**
 * libvirt's event stream, kept open: one `virsh event` process (adapters/virsh/events), reopened
 * with backoff whenever it ends (the daemon stopped or restarted), until the signal aborts.
 *
 * virsh says nothing once it has connected; a stream still alive after `settleMs` has (one that
 * cannot connect exits at once), and only then does the backoff start over. Every (re)connection
 * is reported through `onConnected`, since events were missed until then.
 */
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
      await delay(backoff);
      backoff = Math.min(backoff * 2, options.backoffMaxMs);
    }
  } finally {
    await stream?.stop();
  }
}

function describeEnd(end: EventStreamEnd): string {
  const how = end.signal ? `signal ${end.signal}` : `status ${end.exitCode ?? '?'}`;
  return end.message ? `${how}: ${end.message}` : how;
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
