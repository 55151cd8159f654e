/** The guide's expected-output patterns (test/support/guide-blocks.ts), which both guide tests rely on. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { outputPattern } from '../support/guide-blocks';

test('the output pattern: placeholders match, anything else does not', () => {
  assert.ok(outputPattern(['a <...> c', '...', 'end']).test('a b c\nx\ny\nend\n'));
  assert.ok(outputPattern(['a <...> c', '...', 'end']).test('a  c\nend\n'));
  assert.not.ok(outputPattern(['a <...> c', 'end']).test('a b c\nextra\nend\n'));
  assert.not.ok(outputPattern(['1 domain']).test('2 domains\n'));
});

test.run();
