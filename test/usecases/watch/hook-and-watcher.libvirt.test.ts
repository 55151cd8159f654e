/**
 * The hook and the watcher together (docs/design.md, "Triggers"): both reconcile a guest that
 * starts, the hook from its detached `started` child, the watcher on the `Started` event, and the
 * watcher also sees the write itself as a `metadata-change`. The domain must still be written
 * once per start: counted as libvirt's own `metadata-change` events for that domain (one per
 * `virsh metadata --set`, whatever definitions it writes), until they have been quiet for 2 s.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProveDaemon, randomVif } from '../../support/daemon-fixture';
import { guestXml } from '../../support/libvirt';
import { networkInfo, novaInstance, NS_1_1 } from '../../support/nova-guest';
import { expectedPorts, portsOf } from '../../support/ports-of';

const t = suite('hook and watcher: one write per start');
const pd = new ProveDaemon();
let watcher: ChildProcess;
const log: string[] = [];
let events: { proc: ChildProcess; lines: { at: number; text: string }[] };

async function until(what: string, ms: number, probe: () => Promise<boolean> | boolean): Promise<void> {
  const start = Date.now();
  while (!(await probe())) {
    if (Date.now() - start > ms) assert.unreachable(`${what}: not within ${ms} ms\nwatcher log:\n${log.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The metadata-change events of this domain since `mark`, once none came for 2 s. */
async function settledChanges(name: string, mark: number): Promise<number> {
  const mine = () => events.lines.slice(mark).filter((l) => l.text.includes("event 'metadata-change'") && l.text.includes(`for domain '${name}'`));
  const quietSince = () => Math.max(mark === 0 ? 0 : (events.lines[mark - 1]?.at ?? 0), mine().at(-1)?.at ?? 0);
  await until('metadata-change events to settle', 30_000, () => Date.now() - quietSince() > 2000 && mine().length > 0);
  return mine().length;
}

function guest(name: string) {
  const vif = randomVif();
  vif.floating = ['203.0.113.9'];
  const uuid = randomUUID();
  pd.cache.put(uuid, networkInfo([vif]));
  const file = join(pd.scratch, `${uuid}.xml`);
  // As nova >= 23 defines it: its own fixed IPs, never the floating one.
  writeFileSync(file, guestXml({ name, uuid, interfaces: [{ mac: vif.mac, dev: vif.dev }], metadata: novaInstance({ ns: NS_1_1, name, novaPorts: [vif] }) }));
  return { name, uuid, file, want: expectedPorts([vif]) };
}

t.before(async () => {
  await pd.start();
  events = { proc: spawn('virsh', ['-c', pd.d.uri, 'event', '--all', '--loop'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } }), lines: [] };
  createInterface({ input: events.proc.stdout as NodeJS.ReadableStream }).on('line', (text) => events.lines.push({ at: Date.now(), text }));
  watcher = pd.spawnCli(['watch', '--verbose']);
  createInterface({ input: watcher.stderr as NodeJS.ReadableStream }).on('line', (l) => log.push(l));
  await until('the watcher started', 60_000, () => log.some((l) => l.startsWith('all domains reconciled (startup)')));
});

t.after(async () => {
  watcher.kill('SIGTERM');
  events.proc.kill();
  const hookLog = join(pd.scratch, 'hook.log');
  console.log(`\nwatcher log:\n${log.join('\n')}\nhook log:\n${existsSync(hookLog) ? readFileSync(hookLog, 'utf8') : '(syslog)'}`);
  await pd.stop();
});

for (const kind of ['transient', 'nova boot'] as const) {
  t(`${kind}: both reconcile the start, the domain is written once`, async () => {
    const g = guest(kind === 'transient' ? 'both-transient' : 'instance-000000b1');
    const mark = events.lines.length;
    if (kind === 'transient') await pd.d.virshOk('create', g.file);
    else {
      await pd.d.virshOk('define', g.file);
      await pd.d.virshOk('start', g.uuid);
    }
    const defs = kind === 'transient' ? [['dumpxml', g.uuid]] : [['dumpxml', g.uuid], ['dumpxml', '--inactive', g.uuid]];
    await until('the ports in every definition', 10_000, async () => {
      for (const args of defs) if (JSON.stringify(portsOf(await pd.d.virshOk(...args))) !== JSON.stringify(g.want)) return false;
      return true;
    });
    const writes = await settledChanges(g.name, mark);
    // Both looked: the watcher logged its reconcile of the start, the hook's child has finished.
    await pd.hooksSettled();
    assert.ok(log.some((l) => l.startsWith(`${g.name}: `) && l.includes('started')), `the watcher reconciled ${g.name} for its start:\n${log.join('\n')}`);
    assert.is(writes, 1, `metadata-change events for ${g.name}:\n${events.lines.slice(mark).map((l) => l.text).join('\n')}`);
  });
}

t.run();
