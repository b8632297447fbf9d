/**
 * A subscription over SSE (graphql-yoga's `text/event-stream` answer to a POST): every `data`
 * payload it gets, parsed, in order, until `close()` or the stream's end.
 */
export function sseSubscription(url: string, token: string, query: string) {
  // Payloads as the server sent them (JSON of any shape).
  const payloads: any[] = [];
  const abort = new AbortController();
  let buffered = '';
  void (async () => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) payloads.push(JSON.parse(data.slice(6)));
      }
    }
  })().catch(() => {});
  return { payloads, close: () => abort.abort() };
}
