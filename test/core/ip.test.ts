/** parseIp: which texts are addresses, and their canonical text (dotted quad; RFC 5952 for IPv6). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIp } from '../../src/core/ip';

const canonical: [string, string, 4 | 6][] = [
  ['0.0.0.0', '0.0.0.0', 4],
  ['10.0.0.1', '10.0.0.1', 4],
  ['255.255.255.255', '255.255.255.255', 4],
  ['192.168.100.200', '192.168.100.200', 4],
  ['::', '::', 6],
  ['::1', '::1', 6],
  ['1::', '1::', 6],
  ['0:0:0:0:0:0:0:0', '::', 6],
  ['0:0:0:0:0:0:0:1', '::1', 6],
  // leading zeros dropped, upper case lowered
  ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1', 6],
  ['2001:db8::0:1', '2001:db8::1', 6],
  ['FDF8:F53B:82E4::0052', 'fdf8:f53b:82e4::52', 6],
  ['fe80::0001', 'fe80::1', 6],
  ['000f::', 'f::', 6],
  // a single zero group is never shortened to "::"
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 6],
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0', 6],
  ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8', 6],
  // the longest run of zeros is shortened...
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1', 6],
  ['1:0:0:0:2:0:0:3', '1::2:0:0:3', 6],
  // ...and the first when tied
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 6],
  ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4', 6],
  ['1:0:0:0:2:0:0:0', '1::2:0:0:0', 6],
  ['0:0:1:0:0:1:0:0', '::1:0:0:1:0:0', 6],
  // a "::" that the writer put on the shorter run is moved to the longer one
  ['1::2:0:0:0:3', '1:0:0:2::3', 6],
  // embedded IPv4: IPv4-mapped stays dotted, anything else is plain hex
  ['::ffff:192.0.2.1', '::ffff:192.0.2.1', 6],
  ['::FFFF:C000:0201', '::ffff:192.0.2.1', 6],
  ['0000:0000:0000:0000:0000:ffff:255.255.255.255', '::ffff:255.255.255.255', 6],
  ['::1.2.3.4', '::102:304', 6],
  ['64:ff9b::192.0.2.33', '64:ff9b::c000:221', 6],
  ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304', 6],
  ['1::5:6:1.2.3.4', '1::5:6:102:304', 6],
];

for (const [text, expected, version] of canonical) {
  test(`${JSON.stringify(text)} is IPv${version} ${expected}`, () => {
    assert.equal(parseIp(text), { address: expected, version });
    // canonical text is a fixed point
    assert.equal(parseIp(expected), { address: expected, version });
  });
}

const invalid = [
  '',
  ' ',
  ':',
  ':::',
  '1:::2',
  '1::2::3',
  '::1::',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7',
  '1:2:3:4:5:6:7:8::',
  '::1:2:3:4:5:6:7:8',
  '1::2:3:4:5:6:7:8',
  ':1:2:3:4:5:6:7',
  '1:2:3:4:5:6:7:',
  '00000::1',
  'g::1',
  'fe80::1%eth0',
  'fe80::1%25eth0',
  '[::1]',
  '::1/64',
  ' ::1',
  '::1 ',
  '1:2:3:4:5:6:7:1.2.3.4',
  '1:2:3:4:5:6:1.2.3.4:1',
  '::ffff:1.2.3',
  '::ffff:01.2.3.4',
  '::ffff:256.2.3.4',
  ':1.2.3.4',
  '1.2.3.4::',
  '01.2.3.4',
  '1.02.3.4',
  '00.0.0.0',
  '256.1.1.1',
  '1.1.1.256',
  '1.2.3',
  '1.2.3.4.5',
  '1.2.3.4.',
  '.1.2.3.4',
  '1.2.3.-4',
  '1.2.3.4\n',
  ' 1.2.3.4',
  '1.2.3.4/32',
  '0x1.2.3.4',
  '16909060',
  '１.２.３.４',
  'localhost',
  `${'0:'.repeat(20)}1`,
  '1'.repeat(1000),
];

for (const text of invalid) {
  test(`${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)} is not an address`, () => {
    assert.is(parseIp(text), undefined);
  });
}

test.run();
