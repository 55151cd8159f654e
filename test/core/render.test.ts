import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseNetworkInfo } from '../../src/core/network-info';
import { NOVA_NS } from '../../src/core/nova-namespace';
import { renderPorts } from '../../src/core/render';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');
const squash = (xml: string) => xml.replace(/>\s+</g, '><').trim();

test('two-ports.json renders to expected-two-ports.xml', () => {
  const vifs = parseNetworkInfo(fixture('network_info/two-ports.json'), 'two-ports.json');
  assert.is(squash(renderPorts(vifs, NOVA_NS.v1_1)), squash(fixture('expected-two-ports.xml')));
});

test('no ports renders the empty element nova writes', () => {
  assert.is(renderPorts([], NOVA_NS.v1_0).trim(), `<nova:ports xmlns:nova="${NOVA_NS.v1_0}"/>`);
});

test('a port without IP is a self-closing <nova:port>', () => {
  const vifs = parseNetworkInfo(fixture('network_info/port-without-ip.json'), 'x');
  assert.match(renderPorts(vifs, NOVA_NS.v1_1), '<nova:port uuid="3f1c9a52-1111-4a6e-9d0b-0c0ffee00001"/>');
});

test.run();
