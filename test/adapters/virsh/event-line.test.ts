import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lifecycleOf, metadataChangeOf, parseEventLine } from '../../../src/adapters/virsh/event-line';

const TS = '2026-11-24 13:49:45.246+0000';

test('the lines libvirt 9.0 prints: device-added, metadata-change, device-removed', () => {
  assert.equal(parseEventLine(`${TS}: event 'device-added' for domain 'instance-00000001': net1`), {
    at: TS,
    type: 'device-added',
    domain: 'instance-00000001',
    detail: 'net1',
  });
  const meta = parseEventLine(
    `${TS}: event 'metadata-change' for domain 'instance-00000001': type element, uri http://openstack.org/xmlns/libvirt/nova/1.0`,
  );
  assert.equal(meta, {
    at: TS,
    type: 'metadata-change',
    domain: 'instance-00000001',
    detail: 'type element, uri http://openstack.org/xmlns/libvirt/nova/1.0',
  });
  assert.equal(meta && metadataChangeOf(meta), { kind: 'element', uri: 'http://openstack.org/xmlns/libvirt/nova/1.0' });
  assert.equal(parseEventLine(`${TS}: event 'device-removed' for domain 'X': net1`)?.domain, 'X');
});

test('lifecycle: the event word and its detail, which may have spaces', () => {
  const started = parseEventLine(`${TS}: event 'lifecycle' for domain 'instance-00000001': Started Booted`);
  assert.equal(started && lifecycleOf(started), { event: 'Started', detail: 'Booted' });
  const wake = parseEventLine(`${TS}: event 'lifecycle' for domain 'a b': Started Event wakeup`);
  assert.equal(wake && lifecycleOf(wake), { event: 'Started', detail: 'Event wakeup' });
  const defined = parseEventLine(`event 'lifecycle' for domain 'x': Defined Updated`);
  assert.equal(defined && lifecycleOf(defined), { event: 'Defined', detail: 'Updated' });
  assert.is(defined?.at, undefined, 'without --timestamp');
});

test('names with spaces, quotes and even the separator itself', () => {
  const names = [
    'odd name',
    `odd name 'q' "dq" ;# $(touch x) \\ é`,
    "it's",
    "ends with a quote'",
    "has ': inside",
    "': ",
    ':',
  ];
  for (const name of names) {
    assert.equal(parseEventLine(`${TS}: event 'device-added' for domain '${name}': net1`)?.domain, name, name);
    assert.equal(parseEventLine(`${TS}: event 'lifecycle' for domain '${name}': Started Booted`)?.detail, 'Started Booted', name);
    assert.equal(parseEventLine(`${TS}: event 'reboot' for domain '${name}'`), { at: TS, type: 'reboot', domain: name, detail: undefined }, name);
    const meta = parseEventLine(`${TS}: event 'metadata-change' for domain '${name}': type element, uri http://openstack.org/xmlns/libvirt/nova/1.1`);
    assert.is(meta?.domain, name, name);
  }
});

test('description and title changes carry no URI', () => {
  const e = parseEventLine(`${TS}: event 'metadata-change' for domain 'x': type title, uri <null>`);
  assert.equal(e && metadataChangeOf(e), { kind: 'title', uri: undefined });
});

test('other shapes: disk alias, parameters on continuation lines', () => {
  assert.equal(parseEventLine(`${TS}: event 'tray-change' for domain 'a' disk b' disk ua-1: opened`), {
    at: TS,
    type: 'tray-change',
    domain: "a' disk b",
    detail: 'ua-1: opened',
  });
  assert.equal(parseEventLine(`${TS}: event 'disk-change' for domain 'vm' disk ua-1: /a -> /b: changed`)?.detail, 'ua-1: /a -> /b: changed');
  assert.equal(parseEventLine(`${TS}: event 'tunable' for domain 'vm':`), { at: TS, type: 'tunable', domain: 'vm', detail: '' });
  assert.is(parseEventLine('\tcputune.vcpu_period: 100000'), undefined);
});

test('not events: blanks, virsh messages, continuation lines, a stray CR is tolerated', () => {
  for (const line of ['', 'events received: 3', 'event loop interrupted', 'error: failed to connect to the hypervisor', 'recipient: guest']) {
    assert.is(parseEventLine(line), undefined, line);
  }
  assert.is(parseEventLine(`${TS}: event 'device-added' for domain '': net1`), undefined, 'no empty name');
  assert.is(parseEventLine(`${TS}: event 'device-added' for domain 'x': net1\r`)?.detail, 'net1');
  assert.is(parseEventLine(`garbage ${TS}: event 'device-added' for domain 'x': net1`), undefined, 'anchored');
});

test.run();
