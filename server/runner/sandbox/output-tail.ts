/** Keeps the last `max` bytes of a stream and counts what it dropped. */
export function createOutputTail(max: number) {
  let chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  return {
    push(chunk: Buffer) {
      total += chunk.length;
      chunks.push(chunk);
      kept += chunk.length;
      while (kept > max && chunks.length) {
        const over = kept - max;
        if (chunks[0].length <= over) {
          kept -= chunks[0].length;
          chunks.shift();
        } else {
          chunks[0] = chunks[0].subarray(over);
          kept -= over;
        }
      }
    },
    /** The kept tail as text (a character cut at the start is dropped), and how many bytes were cut before it. */
    result(): { output: string; outputBytes: number; cutBytes: number } {
      const text = Buffer.concat(chunks).toString('utf8');
      const cutBytes = total - kept;
      return { output: cutBytes > 0 ? text.replace(/^\uFFFD+/, '') : text, outputBytes: total, cutBytes };
    },
    reset() {
      chunks = [];
      kept = 0;
    },
  };
}
