/** `watch` options checked before anything starts (the watcher itself runs in watcher.libvirt.test.ts and prometheus.libvirt.test.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcess } from '../support/cli';

const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-watch-'));

test('a --metrics-listen that is not an IP address and a port: exit 2, one line, nothing started', async () => {
  const r = await runInProcess(['watch', '--metrics-listen', 'localhost:9949', '--state-dir', dir]);
  assert.equal(r, { code: 2, stdout: '', stderr: 'nova-ipmeta: --metrics-listen: "localhost:9949" is not ADDRESS:PORT with an IP address (e.g. 127.0.0.1:9949, [::1]:9949)\n' });
});

test('the same from the config file names the file and the key', async () => {
  const conf = join(dir, 'nova-ipmeta.conf');
  writeFileSync(conf, '[metrics]\nlisten = :9949\n');
  const r = await runInProcess(['watch', '--config', conf, '--state-dir', dir]);
  assert.equal(r, { code: 2, stdout: '', stderr: `nova-ipmeta: ${conf}: [metrics] listen: ":9949" is not ADDRESS:PORT with an IP address (e.g. 127.0.0.1:9949, [::1]:9949)\n` });
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
