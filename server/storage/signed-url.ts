import { createHmac, timingSafeEqual } from 'node:crypto';

/** Download links that work in a browser without a header: HMAC over the artifact id and expiry. */
export function signArtifactPath(key: string, artifactId: string, expiresAt: number): string {
  const sig = createHmac('sha256', key).update(`${artifactId}.${expiresAt}`).digest('base64url');
  return `/artifacts/${artifactId}?expires=${expiresAt}&sig=${sig}`;
}

export function verifyArtifactSignature(
  key: string,
  artifactId: string,
  expires: string | null,
  sig: string | null,
  now = Date.now(),
): boolean {
  if (!expires || !sig || !/^\d+$/.test(expires) || Number(expires) < now) return false;
  const expected = createHmac('sha256', key).update(`${artifactId}.${expires}`).digest();
  const given = Buffer.from(sig, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
