/** The core's commands through runMain in this process: render, inject, show --xml; stdin; exit codes; one-line errors. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDomain } from '../../src/core/domain';
import { NOVA_NS } from '../../src/core/nova-namespace';
import { fixturePath, runInProcess } from '../support/cli';

const read = (p: string) => readFileSync(fixturePath(p), 'utf8');
const TWO_PORTS = fixturePath('network_info/two-ports.json');
const WALLABY = fixturePath('domains/wallaby-nova-ports.xml');
const NOT_NOVA = fixturePath('domains/not-nova.xml');
const A = '567a4527-b0e4-4d0a-bcc2-71fda37897f7';
const B = 'a3ca97e2-0cf9-4159-9bfc-afd55bc13ead';

const tmp = mkdtempSync(join(tmpdir(), 'nova-ipmeta-cli-'));
const tmpFile = (name: string, text: string) => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};

function portIds(xml: string): string[] {
  return parseDomain(xml, 'out').nova?.ports?.map((p) => p.id) ?? [];
}

/** Exit 2, nothing on stdout, exactly one line on stderr. */
function assertBadInput(r: { code: number; stdout: string; stderr: string }, line: string | RegExp): void {
  assert.is(r.code, 2, r.stderr);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^nova-ipmeta: [^\n]+\n$/);
  if (typeof line === 'string') assert.is(r.stderr, `nova-ipmeta: ${line}\n`);
  else assert.match(r.stderr, line);
}

test('render FILE prints expected-two-ports.xml byte for byte', async () => {
  const r = await runInProcess(['render', TWO_PORTS]);
  assert.equal(r, { code: 0, stdout: read('expected-two-ports.xml'), stderr: '' });
});

test('render - and render with no file read stdin', async () => {
  for (const argv of [['render', '-'], ['render']]) {
    const r = await runInProcess(argv, read('network_info/two-ports.json'));
    assert.equal(r, { code: 0, stdout: read('expected-two-ports.xml'), stderr: '' }, argv.join(' '));
  }
});

test('render --uri picks the 1.0 namespace', async () => {
  const r = await runInProcess(['render', '--uri', NOVA_NS.v1_0, TWO_PORTS]);
  assert.is(r.code, 0);
  assert.is(r.stdout, read('expected-two-ports.xml').replace(NOVA_NS.v1_1, NOVA_NS.v1_0));
});

test('render of bad network_info: exit 2, one line naming the file, the JSON path and the value', async () => {
  const bad = JSON.stringify([{ id: A, address: 'fa:16:3e:00:00:01' }, { id: B, address: 'fa:16:3e:00:00:02', network: { subnets: [{ ips: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }, { address: '10.0.0.999' }] }] } }]);
  assertBadInput(await runInProcess(['render', '-'], bad), 'stdin: [1].network.subnets[0].ips[2].address: "10.0.0.999" is not an IP address');
  const file = tmpFile('bad.json', bad);
  assertBadInput(await runInProcess(['render', file]), `${file}: [1].network.subnets[0].ips[2].address: "10.0.0.999" is not an IP address`);
  assertBadInput(await runInProcess(['render', '-'], '[{"id": "x", "address": {"toString": 1}}]'), 'stdin: [0].id: "x" is not a UUID');
  assertBadInput(await runInProcess(['render', '-'], '[{"id": "' + A + '", "address": {"toString": 1}}]'), 'stdin: [0].address: {"toString":1} is not a string');
  assertBadInput(await runInProcess(['render', '-'], '{"not": "a list"'), /^nova-ipmeta: stdin: not JSON: /);
  assertBadInput(await runInProcess(['render', '-'], `[${' '.repeat(1024 * 1024)}]`), 'stdin: larger than 1048576 bytes');
  assertBadInput(await runInProcess(['render', join(tmp, 'absent.json')]), `"${join(tmp, 'absent.json')}": cannot read: ENOENT`);
  assertBadInput(await runInProcess(['render', tmp]), /cannot read: EISDIR/);
});

test('inject prints the domain with the desired ports, everything else kept', async () => {
  const r = await runInProcess(['inject', WALLABY, TWO_PORTS]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.equal(portIds(r.stdout), [A, B]);
  assert.match(r.stdout, '<nova:ip type="floating" address="11.22.33.44" ipVersion="4"/>');
  assert.match(r.stdout, '<acme:billing xmlns:acme="https://example.com/xmlns/acme/1">');
  assert.ok(r.stdout.endsWith('</domain>\n'));
});

test('inject reads either input from stdin', async () => {
  const expected = (await runInProcess(['inject', WALLABY, TWO_PORTS])).stdout;
  assert.equal(await runInProcess(['inject', '-', TWO_PORTS], read('domains/wallaby-nova-ports.xml')), { code: 0, stdout: expected, stderr: '' });
  assert.equal(await runInProcess(['inject', WALLABY, '-'], read('network_info/two-ports.json')), { code: 0, stdout: expected, stderr: '' });
  assertBadInput(await runInProcess(['inject', '-', '-'], ''), 'inject: only one input can be stdin (see nova-ipmeta inject --help)');
});

test('inject of a domain without nova element prints it byte for byte', async () => {
  assert.equal(await runInProcess(['inject', NOT_NOVA, TWO_PORTS]), { code: 0, stdout: read('domains/not-nova.xml'), stderr: '' });
  const crlf = tmpFile('crlf.xml', read('domains/not-nova.xml').replace(/\n/g, '\r\n'));
  assert.is((await runInProcess(['inject', crlf, TWO_PORTS])).stdout, readFileSync(crlf, 'utf8'));
});

test('inject of a domain already in sync prints it byte for byte (quotes and line ends as they were)', async () => {
  const once = (await runInProcess(['inject', WALLABY, TWO_PORTS])).stdout;
  const quirky = tmpFile('in-sync.xml', once.replace(/"/g, "'").replace(/\n/g, '\r\n'));
  const r = await runInProcess(['inject', quirky, TWO_PORTS]);
  assert.equal(r, { code: 0, stdout: readFileSync(quirky, 'utf8'), stderr: '' });
});

test('inject of bad XML: exit 2 with one line', async () => {
  assertBadInput(await runInProcess(['inject', '-', TWO_PORTS], '<domain><name>x</domain>'), /^nova-ipmeta: stdin: malformed XML: /);
  assertBadInput(await runInProcess(['inject', '-', TWO_PORTS], '<!DOCTYPE x [<!ENTITY a "aaaa">]><domain><name>&a;</name></domain>'), 'stdin: XML with a DOCTYPE is not accepted');
  assertBadInput(await runInProcess(['inject', '-', TWO_PORTS], '<network><name>default</name></network>'), 'stdin: not a libvirt domain XML (no <domain> root element)');
  assertBadInput(await runInProcess(['inject', WALLABY, '-'], '[{"id": "nope"}]'), 'stdin: [0].id: "nope" is not a UUID');
});

test('inject with a missing argument is a usage error on one line', async () => {
  assertBadInput(await runInProcess(['inject', WALLABY]), 'inject: missing NETWORK-INFO (see nova-ipmeta inject --help)');
});

test('show --xml FILE: one row per address', async () => {
  const r = await runInProcess(['show', '--xml', WALLABY]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', 'domain instance-0000002b');
  assert.match(lines[0] ?? '', 'name db-1');
  assert.match(lines[0] ?? '', NOVA_NS.v1_1);
  assert.equal(
    lines.slice(1).map((l) => l.trim().split(/\s+/)),
    [
      ['PORT', 'ADDRESS', 'TYPE', 'VERSION'],
      [A, '192.168.1.1', 'fixed', '4'],
      [A, 'fdf8:f53b:82e4::52', 'fixed', '6'],
    ],
  );
});

test('show --json --xml -: the ports as JSON, from stdin', async () => {
  const injected = (await runInProcess(['inject', WALLABY, TWO_PORTS])).stdout;
  const r = await runInProcess(['show', '--json', '--xml', '-'], injected);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), {
    domain: 'instance-0000002b',
    instanceId: '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5',
    nova: {
      namespace: NOVA_NS.v1_1,
      name: 'db-1',
      projectId: 'f241e906-010e-4917-ae81-53f4fb8aa021',
      ports: [
        {
          id: A,
          ips: [
            { type: 'fixed', address: '192.168.1.1', ipVersion: 4 },
            { type: 'fixed', address: 'fdf8:f53b:82e4::52', ipVersion: 6 },
            { type: 'floating', address: '11.22.33.44', ipVersion: 4 },
          ],
        },
        { id: B, ips: [{ type: 'fixed', address: '10.0.0.1', ipVersion: 4 }] },
      ],
    },
  });
});

test('show --xml of a domain without nova element, or without <nova:ports>', async () => {
  const notNova = await runInProcess(['show', '--xml', NOT_NOVA]);
  assert.is(notNova.code, 0);
  assert.match(notNova.stdout, 'not a nova instance');
  assert.equal(JSON.parse((await runInProcess(['show', '--json', '--xml', NOT_NOVA])).stdout), {
    domain: 'build-runner',
    instanceId: '11111111-2222-4333-8444-555555555555',
    nova: null,
  });
  const preWallaby = await runInProcess(['show', '--json', '--xml', fixturePath('domains/pre-wallaby.xml')]);
  assert.is((JSON.parse(preWallaby.stdout) as { nova: { ports: unknown } }).nova.ports, null);
});

test('show --xml of bad XML: exit 2 with one line', async () => {
  assertBadInput(await runInProcess(['show', '--xml', '-'], '<domain'), /^nova-ipmeta: stdin: malformed XML: /);
});

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
