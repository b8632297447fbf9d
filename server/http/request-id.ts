import { randomUUID } from 'node:crypto';

/**
 * A new request id: a UUID, as one flat string. Node's randomUUID builds its text by concatenation,
 * a tree of ~24 string pieces (~0.75 KB) for as long as the string lives, and a subscription's
 * context keeps its request id for as long as the subscription stays open.
 */
export function newRequestId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}
