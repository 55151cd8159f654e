/** XDR as libvirt's RPC encodes it (src/adapters/libvirt/rpc/xdr.ts): words, padding, optional values, bounds. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XdrError, XdrReader, XdrWriter } from '../../../src/adapters/libvirt/rpc/xdr';

test('strings are a length and UTF-8 bytes padded to a word; optional values a 0/1 word first', () => {
  const bytes = new XdrWriter().string('ab').optionalString(null).optionalString('名').int(-1).uint(0xffffffff).bytes();
  assert.is(bytes.toString('hex'), ['00000002', '61620000', '00000000', '00000001', '00000003', 'e5908d00', 'ffffffff', 'ffffffff'].join(''));
  const r = new XdrReader(bytes);
  assert.is(r.string(10), 'ab');
  assert.is(r.optionalString(10), null);
  assert.is(r.optionalString(10), '名');
  assert.is(r.int(), -1);
  assert.is(r.uint(), 0xffffffff);
});

test('a UUID travels as 16 bytes; arrays as a count then their elements', () => {
  const uuid = Buffer.from('6695eb01f6a4830479aa97f2502e193f', 'hex');
  const r = new XdrReader(new XdrWriter().uint(2).fixed(uuid).int(3).fixed(uuid).int(-1).bytes());
  assert.equal(r.array(5, (x) => [x.fixed(16).toString('hex'), x.int()]), [
    ['6695eb01f6a4830479aa97f2502e193f', 3],
    ['6695eb01f6a4830479aa97f2502e193f', -1],
  ]);
});

test('what does not decode is refused, never read past its end', () => {
  const cases: [string, (r: XdrReader) => unknown][] = [
    ['00000005616263', (r) => r.string(10)], // cut short
    ['0000000b', (r) => r.string(10)], // over its bound
    ['00000002ff fe0000'.replace(' ', ''), (r) => r.string(10)], // not UTF-8
    ['00000002', (r) => r.optionalString(10)], // neither 0 nor 1
    ['00000003', (r) => r.array(2, (x) => x.int())], // too many
    ['000000', (r) => r.int()],
  ];
  for (const [hex, read] of cases) assert.throws(() => read(new XdrReader(Buffer.from(hex, 'hex'))), (e: unknown) => e instanceof XdrError, hex);
});

test.run();
