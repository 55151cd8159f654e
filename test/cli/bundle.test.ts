/** The built dist/nova-ipmeta.cjs, run as libvirt and operators run it: on this Node and on Node 18.20.4. */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  test(`${label}: a non-blocking stdout that fills up (EAGAIN): every byte still arrives before the exit`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-nonblocking-'));
    try {
      // 2 MiB of domain printed back byte for byte: far more than a FIFO holds.
      const big = readFileSync(NOT_NOVA, 'utf8').replace('</domain>', `<description>${'x'.repeat(2 << 20)}</description></domain>`);
      const domain = join(dir, 'big.xml');
      writeFileSync(domain, big);
      const fifo = join(dir, 'out');
      assert.is(spawnSync('mkfifo', [fifo]).status, 0);
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const writer = openSync(fifo, constants.O_WRONLY);
      // Node's process.stdout makes a pipe's descriptor non-blocking (libuv): what a stdout shared
      // with such a process looks like. The writes then meet EAGAIN once the FIFO is full.
      const preload = join(dir, 'non-blocking-stdout.cjs');
      writeFileSync(preload, 'void process.stdout;\n');
      const child = spawn(node, ['--require', preload, BUNDLE, 'inject', domain, TWO_PORTS], { stdio: ['ignore', writer, 'pipe'] });
      closeSync(writer);
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 300)); // nobody reads meanwhile
      const chunks: Buffer[] = [];
      const buffer = Buffer.alloc(1 << 16);
      for (;;) {
        let n: number;
        try {
          n = readSync(reader, buffer);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        if (n === 0) break; // every writer closed: the child is done writing
        chunks.push(Buffer.from(buffer.subarray(0, n)));
      }
      closeSync(reader);
      assert.is(await exited, 0, stderr);
      assert.is(Buffer.concat(chunks).toString(), big);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
