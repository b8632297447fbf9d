import type { Writable } from 'node:stream';
import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import { textFrame } from './websocket-delivery.ts';

/** ws' frame decoder, the one its clients read with (not in ws' type declarations). */
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean }) => Writable };

/** What a `ws` client reads from `bytes`: the text messages, in order. */
function readByClient(bytes: Buffer): Promise<string[]> {
  const receiver = new Receiver({ isServer: false });
  const messages: string[] = [];
  return new Promise((resolve, reject) => {
    receiver.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) reject(new Error('binary frame'));
      messages.push(data.toString('utf8'));
    });
    receiver.on('error', reject);
    receiver.write(bytes, () => resolve(messages));
  });
}

describe('textFrame', () => {
  it('frames texts of every length class (7-, 16- and 64-bit lengths, multi-byte characters) so that ws reads them back', async () => {
    const texts = [
      '',
      'a'.repeat(125),
      'é'.repeat(63),
      'a'.repeat(126),
      'ü'.repeat(40_000),
      'a'.repeat(65_535),
      'a'.repeat(65_536),
      '€'.repeat(70_000),
    ];
    expect(await readByClient(Buffer.concat(texts.map(textFrame)))).toEqual(texts);
    // The shortest header that holds the length, as RFC 6455 requires: 2, 4 or 10 bytes.
    expect([125, 126, 65_535, 65_536].map((n) => textFrame('a'.repeat(n)).length - n)).toEqual([2, 4, 4, 10]);
  });
});
