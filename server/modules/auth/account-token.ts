import { createHash, randomBytes } from 'node:crypto';

/** A token to mail: 32 random bytes, URL-safe; only its hash is stored. */
export function newAccountToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashAccountToken(token) };
}

/** SHA-256 (hex) is enough for 256 random bits: nothing to brute-force, so no slow hash is needed. */
export function hashAccountToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
