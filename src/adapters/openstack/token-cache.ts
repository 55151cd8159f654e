/**
 * The Keystone token between runs: `<state>/keystone-token.json`, 0600 in the 0700 state
 * directory, so that a host polling Neutron every minute asks Keystone for a token about once
 * per token lifetime, not once a run (docs/design.md, "The cache").
 *
 * The file holds the token, its expiry and the catalog that came with it, under a key that is a
 * hash of every credential it was made from: other credentials (a new password, another user or
 * Keystone) never use it. It is trusted like the cache files: a file someone else could have
 * planted (wrong owner, group- or other-writable, a symbolic link, not a regular file) is
 * ignored, since its catalog names the Neutron whose answers end up in every instance's XML.
 * Anything wrong with it means a new token, never a failure; writing it is best effort (a
 * read-only or full disk costs a token per run, nothing else). The token is never printed.
 */
import { createHash } from 'node:crypto';
import { readPrivateFile, writePrivateFile } from '../private-file';
import type { KeystoneAuth, Session } from './keystone';

export const TOKEN_FILE = 'keystone-token.json';
const MAX_BYTES = 4 * 1024 * 1024;

export class TokenCache {
  private readonly key: string;

  /** `readOnly`: never write (--dry-run). */
  constructor(
    private readonly stateDir: string,
    auth: KeystoneAuth,
    private readonly readOnly = false,
  ) {
    this.key = createHash('sha256').update(JSON.stringify(['nova-ipmeta token', auth])).digest('hex');
  }

  /** The stored session for these credentials when it stays valid for `marginMs` more, else undefined. */
  read(marginMs: number, now = Date.now()): Session | undefined {
    const text = readPrivateFile(this.stateDir, TOKEN_FILE, MAX_BYTES);
    if (text === undefined) return undefined;
    let stored: unknown;
    try {
      stored = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isStored(stored) || stored.key !== this.key) return undefined;
    const lifetime = stored.expires_at - (stored.issued_at ?? stored.expires_at);
    // A short-lived token is still used for half its life: renewing it every run would defeat the cache.
    const margin = lifetime > 0 ? Math.min(marginMs, lifetime / 2) : marginMs;
    if (stored.expires_at - now < margin) return undefined;
    return { token: stored.token, expiresAt: stored.expires_at, issuedAt: stored.issued_at, catalog: stored.catalog };
  }

  /** Keeps a new session for the next runs; quietly does nothing when it cannot. */
  write(session: Session): void {
    if (this.readOnly || session.expiresAt === undefined) return;
    const stored: Stored = { key: this.key, token: session.token, expires_at: session.expiresAt, issued_at: session.issuedAt, catalog: session.catalog };
    writePrivateFile(this.stateDir, TOKEN_FILE, `${JSON.stringify(stored)}\n`);
  }
}

interface Stored {
  readonly key: string;
  readonly token: string;
  readonly expires_at: number;
  readonly issued_at: number | undefined;
  readonly catalog: Session['catalog'];
}

function isStored(v: unknown): v is Stored {
  if (v === null || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.key === 'string' &&
    typeof s.token === 'string' &&
    s.token !== '' &&
    typeof s.expires_at === 'number' &&
    (s.issued_at === undefined || typeof s.issued_at === 'number') &&
    Array.isArray(s.catalog)
  );
}
