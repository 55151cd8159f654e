import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseEventLine } from '../../../src/adapters/virsh/event-line';
import { cacheFileUuid, eventReason } from '../../../src/usecases/watch/triggers';

const TS = '2026-11-24 13:49:45.246+0000';
const reason = (rest: string) => {
  const e = parseEventLine(`${TS}: event ${rest}`);
  assert.ok(e, rest);
  return eventReason(e);
};

test('device events, nova metadata changes, defined, started and undefined reconcile', () => {
  assert.is(reason("'device-added' for domain 'instance-00000001': net1"), 'device-added');
  assert.is(reason("'device-removed' for domain 'instance-00000001': net1"), 'device-removed');
  assert.is(reason("'metadata-change' for domain 'i': type element, uri http://openstack.org/xmlns/libvirt/nova/1.0"), 'metadata-change');
  assert.is(reason("'metadata-change' for domain 'i': type element, uri http://openstack.org/xmlns/libvirt/nova/1.1"), 'metadata-change');
  assert.is(reason("'lifecycle' for domain 'i': Defined Added"), 'defined');
  assert.is(reason("'lifecycle' for domain 'i': Defined Updated"), 'defined');
  assert.is(reason("'lifecycle' for domain 'i': Started Booted"), 'started');
  assert.is(reason("'lifecycle' for domain 'i': Started Restored"), 'started');
  assert.is(reason("'lifecycle' for domain 'i': Started Snapshot"), 'started');
  // The job finds no domain: the instance is gone from the address history.
  assert.is(reason("'lifecycle' for domain 'i': Undefined Removed"), 'undefined');
});

test('an incoming migration counts when it has finished (Resumed Migrated), not while it runs (Started Migrated)', () => {
  assert.is(reason("'lifecycle' for domain 'i': Started Migrated"), undefined);
  assert.is(reason("'lifecycle' for domain 'i': Resumed Migrated"), 'migrated');
  assert.is(reason("'lifecycle' for domain 'i': Resumed Unpaused"), undefined);
});

test('everything else is ignored: other namespaces, title, stop, reboot, other event types', () => {
  assert.is(reason("'metadata-change' for domain 'i': type element, uri https://example.com/xmlns/acme/1"), undefined);
  assert.is(reason("'metadata-change' for domain 'i': type description, uri <null>"), undefined);
  assert.is(reason("'lifecycle' for domain 'i': Stopped Destroyed"), undefined);
  assert.is(reason("'lifecycle' for domain 'i': Suspended Paused"), undefined);
  assert.is(reason("'reboot' for domain 'i'"), undefined);
  assert.is(reason("'device-removal-failed' for domain 'i': net1"), undefined);
  assert.is(reason("'rtc-change' for domain 'i': 0"), undefined);
});

test('a metadata-change detail in an unknown shape still reconciles (a needless run is harmless)', () => {
  assert.is(reason("'metadata-change' for domain 'i': something new"), 'metadata-change');
});

test('cache file names: <uuid>.json only, temp names and others ignored, UUID lower-cased', () => {
  const uuid = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
  assert.is(cacheFileUuid(`${uuid}.json`), uuid);
  assert.is(cacheFileUuid(`${uuid.toUpperCase()}.json`), uuid);
  for (const name of [
    `.${uuid}.json.tmp`,
    `${uuid}.json.tmp`,
    `${uuid}.json.1234.tmp`,
    `.${uuid}.json.swp`,
    `${uuid}.json~`,
    `${uuid}.JSON`,
    uuid,
    `x${uuid}.json`,
    'not-a-uuid-at-all-but-36-characters.json',
    '.lock',
    'run.lock',
  ]) {
    assert.is(cacheFileUuid(name), undefined, name);
  }
});

test.run();
