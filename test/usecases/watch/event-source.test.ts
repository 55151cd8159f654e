import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { daemonSocketOf } from '../../../src/usecases/watch/event-source';

test("a local daemon's socket, whose appearing cuts a reconnect backoff short; none for remote and session URIs", () => {
  const system = { dir: '/run/libvirt', names: ['libvirt-sock', 'virtqemud-sock'] };
  assert.equal(daemonSocketOf(undefined), system);
  assert.equal(daemonSocketOf('qemu:///system'), system);
  assert.equal(daemonSocketOf('qemu+unix:///system/'), system);
  assert.equal(daemonSocketOf('qemu:///system?socket=/tmp/x/run/libvirt-sock'), { dir: '/tmp/x/run', names: ['libvirt-sock'] });
  for (const uri of ['qemu:///session', 'qemu+ssh://compute-2/system', 'qemu+tcp://10.0.0.1/system', 'test:///default', 'not a uri']) {
    assert.is(daemonSocketOf(uri), undefined, uri);
  }
});

test.run();
