/**
 * The one-command listing, `virsh list --all --uuid --id --name`, parsed without virsh (the real
 * virsh gives it in test/adapters/virsh/session.libvirt.test.ts): `UUID ID NAME`, `-` for the
 * ID of an inactive domain, the name as it is, spaces and all.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseUuidIdNames } from '../../../src/adapters/virsh/domains';
import { SystemError } from '../../../src/errors';

const A = '6695eb01-f6a4-8304-79aa-97f2502e193f';
const B = '11111111-2222-3333-4444-555555555555';

test('running and inactive domains, names with spaces kept exactly', () => {
  assert.equal(parseUuidIdNames(`${A} 12 test\n${B} -  two  spaces \n\n`), [
    { uuid: A, name: 'test', active: true, id: 12 },
    { uuid: B, name: ' two  spaces ', active: false },
  ]);
});

test('a name that looks like an ID is still the name', () => {
  assert.equal(parseUuidIdNames(`${A} 3 4 5`), [{ uuid: A, name: '4 5', active: true, id: 3 }]);
});

test('nothing listed: no domain', () => {
  assert.equal(parseUuidIdNames('\n'), []);
});

for (const line of [`${A} test`, `${A} 7`, `${A} - `, `${A.slice(0, 35)} - x`, `${A}  - x`, `not-a-uuid-at-all-not-a-uuid-at-all! - x`]) {
  test(`an unexpected line is an error naming it: ${JSON.stringify(line)}`, () => {
    try {
      parseUuidIdNames(line);
      assert.unreachable('parsed');
    } catch (err) {
      assert.instance(err, SystemError);
      assert.match((err as Error).message, 'unexpected line');
    }
  });
}

test.run();
