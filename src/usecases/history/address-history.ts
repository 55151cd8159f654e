/**
 * Writing the address history (docs/design.md, "The address history") where the outcomes are
 * known: after each domain's reconcile, for the timer, the hook's reconcile and the watcher
 * alike, and when an instance is found gone (a run over every domain, or the watcher finding a
 * domain undefined).
 *
 * A run (`begin()`, under the run lock) compares each domain's addresses with what was last
 * recorded (current.json), appends a record per change, and at its end forces the log to disk
 * and then replaces current.json. So a run that finds nothing changed writes nothing, and a run
 * killed half-way leaves records that the next run repeats, which the reader takes as no news.
 *
 * The history never fails a reconcile: a full disk, a read-only state directory or a bad
 * `[history]` setting stops the recording (one log line; the watcher says again only once it
 * records again), and the changes missed are recorded by the first run that can write, with that
 * run's time.
 */
import { isExpectedFailure, messageOf } from '../../errors';
import type { Ini } from '../../core/ini';
import {
  formatRecord,
  formatState,
  heldAddresses,
  heldRecords,
  parseState,
  recordChanges,
  stateOfRecords,
  type HistoryState,
  type InstanceState,
  type Observation,
} from '../../core/history';
import type { Uuid } from '../../core/model';
import { historyConfig, historyDir, HistoryLogWriter, historyFingerprint, logMark, readAllRecords, readHistoryState, writeHistoryState, type HistoryConfig } from '../../adapters/history-log';
import type { Outcome } from '../reconcile/outcome';

export interface AddressHistoryOptions {
  readonly stateDir: string;
  /** The config file, for `[history]`. */
  readonly ini: Ini;
  readonly configFile: string;
  /** One line when recording stops (and, after that, when it works again). */
  readonly log: (line: string) => void;
  readonly now?: () => Date;
}

/** Long-lived (the watcher keeps one): remembers whether recording failed, so it says so once. */
export class AddressHistory {
  readonly dir: string;
  private readonly config: HistoryConfig | Error;
  private failing = false;

  constructor(private readonly options: AddressHistoryOptions) {
    this.dir = historyDir(options.stateDir);
    try {
      this.config = historyConfig(options.ini, options.configFile);
    } catch (err) {
      if (!isExpectedFailure(err)) throw err;
      this.config = err;
    }
  }

  /** A run's recorder; to be used under the run lock. */
  begin(): HistoryRun {
    if (this.config instanceof Error) {
      this.failed(this.config);
      return new HistoryRun(undefined, this);
    }
    if (!this.config.enabled) return new HistoryRun(undefined, this);
    return new HistoryRun({ dir: this.dir, writer: new HistoryLogWriter(this.dir, this.config.rotation), now: this.options.now ?? (() => new Date()) }, this);
  }

  /**
   * The history as it stands, in one word (history-log.ts's historyFingerprint): a run that finds
   * every domain as the run that left this word did has nothing to record. Undefined when it
   * cannot be told.
   */
  fingerprint(): string | undefined {
    // A history that failed to record may lack what it was shown: not a state to build on.
    if (this.config instanceof Error || this.failing) return undefined;
    return this.config.enabled ? historyFingerprint(this.dir) : 'disabled';
  }

  /** @internal */
  failed(err: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.options.log(`address history not recorded: ${messageOf(err)}`);
  }

  /** @internal */
  recorded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.options.log('address history recorded again');
  }
}

interface RunParts {
  readonly dir: string;
  readonly writer: HistoryLogWriter;
  readonly now: () => Date;
}

export class HistoryRun {
  private state: { complete: boolean; instances: Map<Uuid, InstanceState> } | undefined;
  private dirty = false;
  private appended = false;
  private stopped: boolean;

  constructor(
    private readonly parts: RunParts | undefined,
    private readonly history: AddressHistory,
  ) {
    this.stopped = parts === undefined;
  }

  /** One domain's outcome; a dry run's, an error's and a non-instance's change nothing. */
  observe(o: Outcome): void {
    if (o.kind === 'error' || o.kind === 'would-repair') return;
    this.guard(() => {
      const state = this.load();
      const known = state.instances.get(o.uuid as Uuid);
      if (o.kind === 'not-nova') {
        // No longer an instance: its addresses are no longer in its XML.
        if (known) this.apply({ time: this.time(), instance: o.uuid as Uuid, identity: known, found: [], now: [] });
        return;
      }
      const macs = o.observed?.macs ?? {};
      this.apply({
        time: this.time(),
        instance: o.uuid as Uuid,
        identity: { domain: o.domain, name: o.observed?.name ?? known?.name ?? null, project: o.projectId ?? known?.project ?? null },
        found: o.observed ? heldAddresses({ ports: o.observed.found ?? [], macs }) : null,
        now: heldAddresses({ ports: o.ports, macs }),
      });
    });
  }

  /** The instance is no longer a domain here. */
  gone(uuid: Uuid): void {
    this.guard(() => {
      this.leave(uuid);
    });
  }

  /**
   * The end of the run: with `present` (a run over every domain: the UUIDs libvirt listed), every
   * instance recorded but not among them is gone. Then the log is synced and the state replaced.
   */
  finish(present?: Iterable<string>): void {
    this.guard(() => {
      if (present !== undefined) {
        const here = new Set(present);
        for (const uuid of [...this.load().instances.keys()]) if (!here.has(uuid)) this.leave(uuid);
        const state = this.load();
        if (!state.complete) {
          state.complete = true;
          this.dirty = true;
        }
      }
      if (!this.dirty || !this.parts || this.state === undefined) return;
      if (this.appended) this.parts.writer.sync();
      writeHistoryState(this.parts.dir, formatState(this.state, logMark(this.parts.dir)));
      this.history.recorded();
    });
    this.parts?.writer.close();
    this.stopped = true;
  }

  private leave(uuid: Uuid): void {
    const known = this.load().instances.get(uuid);
    if (known) this.apply({ time: this.time(), instance: uuid, identity: known, found: null, now: [], gone: true });
  }

  private apply(o: Observation): void {
    const parts = this.parts as RunParts;
    const state = this.load();
    const { records, next } = recordChanges(state, o);
    if (records.length > 0) {
      // A fresh log opens with what was held before these records: the state is changed only after.
      parts.writer.append(records.map(formatRecord).join(''), () => heldRecords(state, o.time).map(formatRecord).join(''), new Date(o.time));
      this.appended = true;
    }
    const previous = state.instances.get(o.instance);
    if (next === undefined) state.instances.delete(o.instance);
    else state.instances.set(o.instance, next);
    if (records.length > 0 || JSON.stringify(previous) !== JSON.stringify(next)) this.dirty = true;
  }

  /** Expected failures stop the recording for this run, said once; bugs propagate. */
  private guard(work: () => void): void {
    if (this.stopped) return;
    try {
      work();
    } catch (err) {
      if (!isExpectedFailure(err)) throw err;
      this.stopped = true;
      this.parts?.writer.close();
      this.history.failed(err);
    }
  }

  private time(): string {
    return (this.parts as RunParts).now().toISOString();
  }

  /**
   * What was last recorded: current.json, when the log is still as it was when that was written;
   * otherwise (no state yet, a run that died or a disk that filled after appending, a damaged
   * file) what the log's own records say is held, so that nothing is seeded twice, no record
   * is left without its end, and the gone are still noticed.
   */
  private load(): { complete: boolean; instances: Map<Uuid, InstanceState> } {
    if (this.state) return this.state;
    const dir = (this.parts as RunParts).dir;
    const text = readHistoryState(dir);
    const parsed = text === undefined ? undefined : parseState(text);
    const current = parsed !== undefined && parsed.mark === logMark(dir);
    const state = current ? parsed.state : stateFromLog(dir, parsed?.state.complete);
    // Rebuilt: written back at the end of the run, so the next one need not read the log again.
    if (!current && (text !== undefined || state.instances.size > 0)) this.dirty = true;
    this.state = { complete: state.complete, instances: new Map(state.instances) };
    return this.state;
  }
}

/** The state the log implies; complete when it has any record (a run wrote it), unless the state file said otherwise. */
function stateFromLog(dir: string, complete: boolean | undefined): HistoryState {
  const records = readAllRecords(dir)?.records ?? [];
  return stateOfRecords(records, complete ?? records.length > 0);
}
