import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IpAddress } from '../../../src/core/ip';
import type { Uuid } from '../../../src/core/model';
import { parseRunRecord, recordRun, type RunRecord } from '../../../src/usecases/reconcile/metrics';
import { formatMetrics } from '../../../src/usecases/reconcile/metrics-exposition';
import type { Outcome } from '../../../src/usecases/reconcile/outcome';

const port = {
  id: '567a4527-b0e4-4d0a-bcc2-71fda37897f7' as Uuid,
  ips: [
    { type: 'fixed' as const, address: '192.168.1.1' as IpAddress, version: 4 as const },
    { type: 'floating' as const, address: '11.22.33.44' as IpAddress, version: 4 as const },
  ],
};
const ok: Outcome = { domain: 'instance-0000002a', uuid: '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a', projectId: 'f241e906-010e-4917-ae81-53f4fb8aa021', kind: 'in-sync', ports: [port] };
const failed: Outcome = { domain: 'broken', uuid: '11111111-2222-4333-8444-555555555555', kind: 'error', reason: 'boom' };
const repaired = (uuid: string): Outcome => ({ domain: `d-${uuid.slice(0, 4)}`, uuid, kind: 'repaired', changes: {}, ports: [] });
const T = 1_700_000_000;

const lines = async (record: RunRecord) => (await formatMetrics(record)).split('\n');
const sample = async (record: RunRecord, name: string) => (await lines(record)).filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));

test('one ip_info series per address, with the labels monitoring joins on', async () => {
  const record = recordRun({ finishedAt: T, durationSeconds: 0.5, outcomes: [ok] }, undefined);
  assert.equal(await sample(record, 'nova_ipmeta_instance_ip_info'), [
    'nova_ipmeta_instance_ip_info{domain="instance-0000002a",instance_id="9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a",project_id="f241e906-010e-4917-ae81-53f4fb8aa021",port_id="567a4527-b0e4-4d0a-bcc2-71fda37897f7",address="192.168.1.1",type="fixed",ip_version="4"} 1',
    'nova_ipmeta_instance_ip_info{domain="instance-0000002a",instance_id="9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a",project_id="f241e906-010e-4917-ae81-53f4fb8aa021",port_id="567a4527-b0e4-4d0a-bcc2-71fda37897f7",address="11.22.33.44",type="floating",ip_version="4"} 1',
  ]);
  assert.equal(await sample(record, 'nova_ipmeta_reconcile_domains'), [
    'nova_ipmeta_reconcile_domains{outcome="in-sync"} 1',
    'nova_ipmeta_reconcile_domains{outcome="repaired"} 0',
    'nova_ipmeta_reconcile_domains{outcome="would-repair"} 0',
    'nova_ipmeta_reconcile_domains{outcome="no-cache"} 0',
    'nova_ipmeta_reconcile_domains{outcome="not-nova"} 0',
    'nova_ipmeta_reconcile_domains{outcome="error"} 0',
  ]);
  assert.equal(await sample(record, 'nova_ipmeta_reconcile_success'), ['nova_ipmeta_reconcile_success 1']);
  assert.equal(await sample(record, 'nova_ipmeta_reconcile_last_success_timestamp_seconds'), [`nova_ipmeta_reconcile_last_success_timestamp_seconds ${T}`]);
});

test('hostile label values are escaped as the text format wants: backslash, quote, line feed', async () => {
  const hostile: Outcome = { ...ok, domain: 'evil"} x{a="1"}\\\nnext 1', projectId: '\\"' };
  const [series] = await sample(recordRun({ finishedAt: T, durationSeconds: 0, outcomes: [hostile] }, undefined), 'nova_ipmeta_instance_ip_info');
  assert.ok(series?.startsWith('nova_ipmeta_instance_ip_info{domain="evil\\"} x{a=\\"1\\"}\\\\\\nnext 1",instance_id="9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a",project_id="\\\\\\"",'), series);
  assert.not.ok((await formatMetrics(recordRun({ finishedAt: T, durationSeconds: 0, outcomes: [hostile] }, undefined))).includes('\nnext 1'), 'no raw line feed in the exposition');
});

test('a failed run keeps the earlier success timestamp instead of claiming one', async () => {
  const first = recordRun({ finishedAt: T, durationSeconds: 1, outcomes: [ok] }, undefined);
  const second = recordRun({ finishedAt: T + 300, durationSeconds: 1, outcomes: [ok, failed] }, parseRunRecord(JSON.stringify(first)));
  assert.equal(await sample(second, 'nova_ipmeta_reconcile_last_success_timestamp_seconds'), [`nova_ipmeta_reconcile_last_success_timestamp_seconds ${T}`]);
  assert.equal(await sample(second, 'nova_ipmeta_reconcile_last_run_timestamp_seconds'), [`nova_ipmeta_reconcile_last_run_timestamp_seconds ${T + 300}`]);
  assert.equal(await sample(second, 'nova_ipmeta_reconcile_success'), ['nova_ipmeta_reconcile_success 0']);
  assert.ok((await lines(second)).includes('nova_ipmeta_reconcile_domains{outcome="error"} 1'));
});

test('a run that reached no domain (libvirt down, the lock busy) says what it knows: failed, when, the last success', async () => {
  const first = recordRun({ finishedAt: T, durationSeconds: 1, outcomes: [ok], orphanCaches: 0 }, undefined);
  const down = recordRun({ finishedAt: T + 300, durationSeconds: 30 }, first);
  const text = await formatMetrics(down);
  assert.equal(await sample(down, 'nova_ipmeta_reconcile_success'), ['nova_ipmeta_reconcile_success 0']);
  assert.equal(await sample(down, 'nova_ipmeta_reconcile_last_run_timestamp_seconds'), [`nova_ipmeta_reconcile_last_run_timestamp_seconds ${T + 300}`]);
  assert.equal(await sample(down, 'nova_ipmeta_reconcile_last_success_timestamp_seconds'), [`nova_ipmeta_reconcile_last_success_timestamp_seconds ${T}`]);
  for (const unknown of ['nova_ipmeta_reconcile_domains', 'nova_ipmeta_instance_ip_info', 'nova_ipmeta_cache_orphans', 'nova_ipmeta_sync_success']) {
    assert.not.ok(text.includes(unknown), `${unknown} is not known`);
  }
});

test('no success ever: no success timestamp at all', async () => {
  const text = await formatMetrics(recordRun({ finishedAt: T, durationSeconds: 1, outcomes: [failed] }, undefined));
  assert.not.match(text, /last_success/);
  assert.match(text, /^nova_ipmeta_reconcile_success 0$/m);
});

test('sync: success and its timestamp move only on success; counts when known; cache age from the last good sync', async () => {
  const synced = recordRun({ finishedAt: T + 10, durationSeconds: 1, outcomes: [ok], sync: { success: true, finishedAt: T + 5, instances: { written: 2, unchanged: 7, failed: 0 } } }, undefined);
  assert.equal(await sample(synced, 'nova_ipmeta_sync_success'), ['nova_ipmeta_sync_success 1']);
  assert.equal(await sample(synced, 'nova_ipmeta_sync_last_success_timestamp_seconds'), [`nova_ipmeta_sync_last_success_timestamp_seconds ${T + 5}`]);
  assert.equal(await sample(synced, 'nova_ipmeta_sync_instances'), ['nova_ipmeta_sync_instances{result="written"} 2', 'nova_ipmeta_sync_instances{result="unchanged"} 7', 'nova_ipmeta_sync_instances{result="failed"} 0']);
  assert.equal(await sample(synced, 'nova_ipmeta_cache_age_seconds'), ['nova_ipmeta_cache_age_seconds 5']);

  const keystoneDown = recordRun({ finishedAt: T + 310, durationSeconds: 1, outcomes: [ok], oldestCacheWrite: T - 1000, sync: { success: false, finishedAt: T + 305 } }, synced);
  assert.equal(await sample(keystoneDown, 'nova_ipmeta_sync_success'), ['nova_ipmeta_sync_success 0']);
  assert.equal(await sample(keystoneDown, 'nova_ipmeta_sync_last_success_timestamp_seconds'), [`nova_ipmeta_sync_last_success_timestamp_seconds ${T + 5}`]);
  assert.equal(await sample(keystoneDown, 'nova_ipmeta_sync_instances'), [], 'nothing was written: no counts');
  assert.equal(await sample(keystoneDown, 'nova_ipmeta_cache_age_seconds'), ['nova_ipmeta_cache_age_seconds 305']);
  assert.equal(await sample(keystoneDown, 'nova_ipmeta_reconcile_success'), ['nova_ipmeta_reconcile_success 1'], 'the reconcile itself succeeded');

  const partial = recordRun({ finishedAt: T + 610, durationSeconds: 1, outcomes: [ok], sync: { success: false, finishedAt: T + 605, instances: { written: 1, unchanged: 7, failed: 1 } } }, keystoneDown);
  assert.equal(await sample(partial, 'nova_ipmeta_sync_success'), ['nova_ipmeta_sync_success 0']);
  assert.equal(await sample(partial, 'nova_ipmeta_sync_last_success_timestamp_seconds'), [`nova_ipmeta_sync_last_success_timestamp_seconds ${T + 5}`]);

  const neverSynced = recordRun({ finishedAt: T + 910, durationSeconds: 1, outcomes: [ok], oldestCacheWrite: T - 90 }, undefined);
  assert.not.match(await formatMetrics(neverSynced), /nova_ipmeta_sync_/, 'a host that never synced has no sync series, so no sync alert');
  assert.equal(await sample(neverSynced, 'nova_ipmeta_cache_age_seconds'), ['nova_ipmeta_cache_age_seconds 1000'], 'then the oldest cache file tells');
});

test('a run without a sync (a reconcile by hand) keeps the last sync facts: the sync alert still sees a sync that stopped succeeding', async () => {
  const via = (r: RunRecord) => parseRunRecord(JSON.stringify(r));
  const r1 = recordRun({ finishedAt: 1000, durationSeconds: 1, outcomes: [ok], sync: { success: true, finishedAt: 1000, instances: { written: 1, unchanged: 2, failed: 0 } } }, undefined);
  const r2 = recordRun({ finishedAt: 1300, durationSeconds: 1, outcomes: [ok], sync: { success: false, finishedAt: 1300, instances: { written: 0, unchanged: 2, failed: 1 } } }, via(r1));
  const r3 = recordRun({ finishedAt: 1400, durationSeconds: 1, outcomes: [ok], oldestCacheWrite: 1390 }, via(r2));
  assert.equal(r3.sync, r2.sync, 'carried over unchanged: the failure, the last success, the counts');
  assert.equal(await sample(r3, 'nova_ipmeta_sync_success'), ['nova_ipmeta_sync_success 0']);
  assert.equal(await sample(r3, 'nova_ipmeta_sync_last_success_timestamp_seconds'), ['nova_ipmeta_sync_last_success_timestamp_seconds 1000']);
  assert.equal(await sample(r3, 'nova_ipmeta_sync_instances'), ['nova_ipmeta_sync_instances{result="written"} 0', 'nova_ipmeta_sync_instances{result="unchanged"} 2', 'nova_ipmeta_sync_instances{result="failed"} 1']);
  assert.equal(await sample(r3, 'nova_ipmeta_cache_age_seconds'), ['nova_ipmeta_cache_age_seconds 400'], 'since the last good sync, not the freshest file');

  const r4 = recordRun({ finishedAt: 1600, durationSeconds: 1, outcomes: [ok], sync: { success: false, finishedAt: 1600 } }, via(r3));
  assert.equal(r4.sync, { success: false, lastSuccess: 1000 });
  assert.equal(await sample(r4, 'nova_ipmeta_sync_last_success_timestamp_seconds'), ['nova_ipmeta_sync_last_success_timestamp_seconds 1000']);
  assert.equal(await sample(r4, 'nova_ipmeta_cache_age_seconds'), ['nova_ipmeta_cache_age_seconds 600']);

  const down = recordRun({ finishedAt: 1700, durationSeconds: 30 }, via(r4));
  assert.equal([down.sync, down.reconcile], [r4.sync, { success: false, lastSuccess: 1600 }], 'libvirt down, no sync: both last successes kept');

  // The credentials taken away (the operator's way to stop syncing): --auto-sync finds none.
  const unconfigured = recordRun({ finishedAt: 1800, durationSeconds: 1, outcomes: [ok], oldestCacheWrite: 1790, sync: 'unconfigured' }, via(down));
  assert.is(unconfigured.sync, undefined);
  assert.not.match(await formatMetrics(unconfigured), /nova_ipmeta_sync_/, 'a host that does not sync has no sync series, so no sync alert');
  assert.equal(await sample(unconfigured, 'nova_ipmeta_cache_age_seconds'), ['nova_ipmeta_cache_age_seconds 10'], 'the oldest cache file tells again');
});

test('drifted again: domains drifted in this run and the previous one; a run that reached no domain keeps the comparison for the next', async () => {
  const a = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
  const b = 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead';
  const first = recordRun({ finishedAt: T, durationSeconds: 1, outcomes: [repaired(a), repaired(b)] }, undefined);
  assert.equal(await sample(first, 'nova_ipmeta_reconcile_domains_drifted_again'), ['nova_ipmeta_reconcile_domains_drifted_again 0'], 'routine repairs are not drift that lasts');
  const down = recordRun({ finishedAt: T + 300, durationSeconds: 1 }, first);
  assert.equal(await sample(down, 'nova_ipmeta_reconcile_domains_drifted_again'), []);
  const again = recordRun({ finishedAt: T + 600, durationSeconds: 1, outcomes: [repaired(a), ok] }, parseRunRecord(JSON.stringify(down)));
  assert.equal(await sample(again, 'nova_ipmeta_reconcile_domains_drifted_again'), ['nova_ipmeta_reconcile_domains_drifted_again 1']);
  const fixed = recordRun({ finishedAt: T + 900, durationSeconds: 1, outcomes: [ok] }, again);
  assert.equal(await sample(fixed, 'nova_ipmeta_reconcile_domains_drifted_again'), ['nova_ipmeta_reconcile_domains_drifted_again 0']);
});

test('a record read back is checked: anything else carries nothing over', () => {
  const good = recordRun({ finishedAt: T, durationSeconds: 1, outcomes: [ok], sync: { success: true, finishedAt: T } }, undefined);
  assert.equal(parseRunRecord(JSON.stringify(good)), good);
  for (const bad of ['', '{', 'null', '[]', '{"finishedAt":1}', JSON.stringify({ ...good, reconcile: { success: 'yes' } }), JSON.stringify({ ...good, sync: { success: true } }), JSON.stringify({ ...good, addresses: [{ domain: 1 }] }), JSON.stringify({ ...good, finishedAt: -1 })]) {
    assert.is(parseRunRecord(bad), undefined, bad);
  }
});

test('every line is HELP, TYPE, a sample, or the blank line between metrics', async () => {
  const record = recordRun({ finishedAt: T, durationSeconds: 0.25, outcomes: [ok, failed], orphanCaches: 2, oldestCacheWrite: T - 60, sync: { success: true, finishedAt: T, instances: { written: 0, unchanged: 1, failed: 0 } } }, undefined);
  const text = await formatMetrics(record);
  assert.ok(text.endsWith('\n'));
  for (const line of text.trimEnd().split('\n')) {
    assert.ok(line === '' || /^# (HELP|TYPE) nova_ipmeta_\w+ .+$/.test(line) || /^nova_ipmeta_\w+(\{.*\})? [0-9.]+$/.test(line), line);
  }
});

test.run();
