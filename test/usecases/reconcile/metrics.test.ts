import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IpAddress } from '../../../src/core/ip';
import type { Uuid } from '../../../src/core/model';
import { formatMetrics, previousSuccess } from '../../../src/usecases/reconcile/metrics';
import type { Outcome } from '../../../src/usecases/reconcile/outcome';

const port = {
  id: '567a4527-b0e4-4d0a-bcc2-71fda37897f7' as Uuid,
  ips: [
    { type: 'fixed' as const, address: '192.168.1.1' as IpAddress, version: 4 as const },
    { type: 'floating' as const, address: '11.22.33.44' as IpAddress, version: 4 as const },
  ],
};
const ok: Outcome = { domain: 'instance-0000002a', uuid: '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a', projectId: 'p"1\\x', kind: 'in-sync', ports: [port] };
const failed: Outcome = { domain: 'broken', uuid: '11111111-2222-4333-8444-555555555555', kind: 'error', reason: 'boom' };

test('one ip_info series per address, with the labels monitoring joins on, escaped', () => {
  const text = formatMetrics({ outcomes: [ok], durationSeconds: 0.5, finishedAt: 1700000000, previousSuccess: undefined });
  const series = text.split('\n').filter((l) => l.startsWith('nova_ipmeta_instance_ip_info{'));
  assert.equal(series, [
    'nova_ipmeta_instance_ip_info{domain="instance-0000002a",instance_id="9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a",project_id="p\\"1\\\\x",port_id="567a4527-b0e4-4d0a-bcc2-71fda37897f7",address="192.168.1.1",type="fixed",ip_version="4"} 1',
    'nova_ipmeta_instance_ip_info{domain="instance-0000002a",instance_id="9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a",project_id="p\\"1\\\\x",port_id="567a4527-b0e4-4d0a-bcc2-71fda37897f7",address="11.22.33.44",type="floating",ip_version="4"} 1',
  ]);
  assert.match(text, /^nova_ipmeta_reconcile_domains\{outcome="in-sync"\} 1$/m);
  assert.match(text, /^nova_ipmeta_reconcile_domains\{outcome="error"\} 0$/m);
  assert.match(text, /^nova_ipmeta_reconcile_last_success_timestamp_seconds 1700000000$/m);
});

test('a failed run keeps the earlier success timestamp instead of claiming one', () => {
  const first = formatMetrics({ outcomes: [ok], durationSeconds: 1, finishedAt: 1700000000, previousSuccess: undefined });
  const second = formatMetrics({ outcomes: [ok, failed], durationSeconds: 1, finishedAt: 1700000300, previousSuccess: previousSuccess(first) });
  assert.match(second, /^nova_ipmeta_reconcile_last_success_timestamp_seconds 1700000000$/m);
  assert.match(second, /^nova_ipmeta_reconcile_last_run_timestamp_seconds 1700000300$/m);
  assert.match(second, /^nova_ipmeta_reconcile_domains\{outcome="error"\} 1$/m);
});

test('no success ever: no success timestamp at all', () => {
  const text = formatMetrics({ outcomes: [failed], durationSeconds: 1, finishedAt: 1700000000, previousSuccess: undefined });
  assert.not.match(text, /last_success/);
});

test('every sample line is HELP, TYPE, or name{labels} value', () => {
  const text = formatMetrics({ outcomes: [ok, failed], durationSeconds: 0.25, finishedAt: 1700000000, previousSuccess: 1 });
  for (const line of text.trimEnd().split('\n')) {
    assert.ok(/^# (HELP|TYPE) nova_ipmeta_\w+ .+$/.test(line) || /^nova_ipmeta_\w+(\{.*\})? [0-9.]+$/.test(line), line);
  }
});

test.run();
