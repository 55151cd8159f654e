import type { Test } from 'uvu';

/** `t.before(setUp)`, saying why it failed: uvu reports a failed hook only as tests not run. */
export function beforeAll(t: Test, setUp: () => Promise<void>): void {
  t.before(async () => {
    try {
      await setUp();
    } catch (err) {
      console.error('set-up failed:', err);
      throw err;
    }
  });
}
