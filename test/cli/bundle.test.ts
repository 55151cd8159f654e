/** The built dist/nova-ipmeta.cjs, run as libvirt and operators run it: on this Node and on Node 18.20.4. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE, NODES, fixturePath, runInProcess } from '../support/cli';

const squash = (xml: string) => xml.replace(/>\s+</g, '><').trim();
const WALLABY = fixturePath('domains/wallaby-nova-ports.xml');
const NOT_NOVA = fixturePath('domains/not-nova.xml');
const TWO_PORTS = fixturePath('network_info/two-ports.json');

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

  test(`${label}: inject prints what runMain prints in process, from a file or from stdin`, async () => {
    const expected = await runInProcess(['inject', WALLABY, TWO_PORTS]);
    const r = spawnSync(node, [BUNDLE, 'inject', WALLABY, TWO_PORTS], { encoding: 'utf8' });
    assert.equal({ code: r.status, stdout: r.stdout, stderr: r.stderr }, expected);
    assert.match(r.stdout, '<nova:port uuid="a3ca97e2-0cf9-4159-9bfc-afd55bc13ead">');
    const piped = spawnSync(node, [BUNDLE, 'inject', '-', TWO_PORTS], { input: readFileSync(WALLABY), encoding: 'utf8' });
    assert.is(piped.status, 0, piped.stderr);
    assert.is(piped.stdout, expected.stdout);
  });

  test(`${label}: inject of a domain without nova element prints it byte for byte`, () => {
    const r = spawnSync(node, [BUNDLE, 'inject', NOT_NOVA, TWO_PORTS]);
    assert.is(r.status, 0, String(r.stderr));
    assert.ok(r.stdout.equals(readFileSync(NOT_NOVA)));
  });

  test(`${label}: inject of malformed XML exits 2 with one line`, () => {
    const r = spawnSync(node, [BUNDLE, 'inject', '-', TWO_PORTS], { input: '<!DOCTYPE d [<!ENTITY a "x">]><domain/>', encoding: 'utf8' });
    assert.is(r.status, 2);
    assert.is(r.stdout, '');
    assert.is(r.stderr, 'nova-ipmeta: stdin: XML with a DOCTYPE is not accepted\n');
  });

  test(`${label}: show --json --xml`, () => {
    const r = spawnSync(node, [BUNDLE, 'show', '--json', '--xml', WALLABY], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const shown = JSON.parse(r.stdout) as { instanceId: string; nova: { ports: { id: string }[] } };
    assert.is(shown.instanceId, '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5');
    assert.equal(
      shown.nova.ports.map((p) => p.id),
      ['567a4527-b0e4-4d0a-bcc2-71fda37897f7'],
    );
  });
}

test.run();
