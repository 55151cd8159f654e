/** The built dist/nova-ipmeta.cjs, run as libvirt and operators run it: on this Node and on Node 18.20.4. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE, NODES, fixturePath } from './helpers';

const squash = (xml: string) => xml.replace(/>\s+</g, '><').trim();

for (const [label, node] of NODES) {
  test(`${label}: render two-ports.json prints expected-two-ports.xml`, () => {
    const r = spawnSync(node, [BUNDLE, 'render', fixturePath('network_info/two-ports.json')], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(squash(r.stdout), squash(readFileSync(fixturePath('expected-two-ports.xml'), 'utf8')));
  });

  test(`${label}: bad input exits 2 with one line naming the JSON path and value`, () => {
    const bad = JSON.stringify([{ id: '567a4527-b0e4-4d0a-bcc2-71fda37897f7', address: 'fa:16:3e:00:00:01', network: { subnets: [{ ips: [{ address: '10.0.0.999' }] }] } }]);
    const r = spawnSync(node, [BUNDLE, 'render', '-'], { input: bad, encoding: 'utf8' });
    assert.is(r.status, 2);
    assert.is(r.stdout, '');
    assert.is(r.stderr, 'nova-ipmeta: stdin: [0].network.subnets[0].ips[0].address: "10.0.0.999" is not an IP address\n');
  });
}

test.run();
