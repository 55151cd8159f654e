/**
 * What an incremental `cache sync` poll decides to fetch (sync-cache.ts, changedInstances), from
 * the last sync's state and Neutron's `changed_since` answers, given by a stand-in that filters
 * ports by `device_id` as Neutron does.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FloatingIpRef, PortRef } from '../../../src/core/neutron-answers';
import { changedInstances, type PollClient } from '../../../src/usecases/sync/sync-cache';
import type { InstanceIds, SyncState } from '../../../src/usecases/sync/sync-state';

const A = '0a0a0a0a-0000-4000-8000-00000000000a';
const B = '0b0b0b0b-0000-4000-8000-00000000000b';
const C = '0c0c0c0c-0000-4000-8000-00000000000c';
const NEW = '0d0d0d0d-0000-4000-8000-00000000000d';
const PA = 'aaaaaaaa-0000-4000-8000-000000000001';
const PB = 'bbbbbbbb-0000-4000-8000-000000000001';

const state = (instances: Record<string, InstanceIds>): SyncState => ({ source: 'x', fullAt: 0, since: '2026-01-01T00:00:00Z', instances });

/** Neutron after these changes: ports by their device_id now, floating IPs changed, those that exist. */
function neutron(changedPorts: PortRef[], changedFips: FloatingIpRef[] = [], existing: string[] = []): PollClient {
  return {
    changedPorts: (ids) => Promise.resolve(changedPorts.filter((p) => ids.includes(p.device_id))),
    changedFloatingIps: () => Promise.resolve(changedFips),
    existingFloatingIps: (ids) => Promise.resolve(new Set(existing.filter((id) => ids.includes(id)))),
  };
}

const sorted = (s: Set<string>) => [...s].sort();

test('a port moved from A to B (both here): A is fetched too, or its file keeps the port until the next full sync', async () => {
  const last = state({ [A]: { ports: [PA], floatingips: [] }, [B]: { ports: [PB], floatingips: [] }, [C]: { ports: [], floatingips: [] } });
  assert.equal(sorted(await changedInstances(neutron([{ id: PA, device_id: B }]), last, [A, B, C])), [A, B]);
});

test('a port moved from A onto an instance new here: A is fetched too', async () => {
  const last = state({ [A]: { ports: [PA], floatingips: [] }, [B]: { ports: [PB], floatingips: [] } });
  assert.equal(sorted(await changedInstances(neutron([{ id: PA, device_id: NEW }]), last, [A, B, NEW])), [A, NEW]);
});

test('a port changed in place names its instance alone; a quiet cloud names none', async () => {
  const last = state({ [A]: { ports: [PA], floatingips: [] }, [B]: { ports: [PB], floatingips: [] } });
  assert.equal(sorted(await changedInstances(neutron([{ id: PA, device_id: A }]), last, [A, B])), [A]);
  assert.equal(sorted(await changedInstances(neutron([]), last, [A, B])), []);
});

test.run();
