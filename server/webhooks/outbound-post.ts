import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress } from './destination.ts';

export interface OutboundLimits {
  /** The whole attempt: connect, send, response headers and the (capped) body. */
  timeoutMs: number;
  /** Bytes of the response body kept; the rest is not read (the connection is closed). */
  maxResponseBytes: number;
  /** Deliver to private, loopback and link-local addresses (AUTODEV_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
}

export const DEFAULT_LIMITS: OutboundLimits = { timeoutMs: 10_000, maxResponseBytes: 4096, allowPrivate: false };

/** What one attempt did: a response (any status; 2xx is success) or why there was none. */
export type OutboundResult =
  | { ok: boolean; status: number; body: string; durationMs: number; error: null }
  | { ok: false; status: null; body: null; durationMs: number; error: string; refused: boolean };

/** Why a destination was refused before any byte was sent (bad URL, private address). */
export class RefusedDestination extends Error {
  override readonly name = 'RefusedDestination';
}

/** Checks a URL's form: http(s), a host, no credentials in it. Returns the parsed URL. */
export function checkWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RefusedDestination('The URL is not a valid absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RefusedDestination('Only http and https URLs can receive webhooks.');
  if (url.username || url.password)
    throw new RefusedDestination('A webhook URL may not carry credentials; use the signature to authenticate deliveries.');
  if (!url.hostname) throw new RefusedDestination('The URL has no host.');
  return url;
}

/**
 * Resolves like the system resolver, then refuses the connection when the address it would use is
 * private (unless allowed). The check is on the address connected to, so DNS answers that change
 * between a check and the connection (rebinding) cannot slip a private address through.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const list = addresses as unknown as { address: string; family: number }[];
      const bad = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (bad) {
        callback(
          new RefusedDestination(
            `${hostname} resolves to ${bad.address}, a private, loopback or link-local address; webhooks are not delivered there.`,
          ),
          '',
          0,
        );
      } else if (options.all) {
        (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      } else {
        callback(null, list[0].address, list[0].family);
      }
    });
  };
}

/**
 * POSTs `body` to `url` once, with a deadline, without following redirects (a 3xx is a failed
 * attempt), keeping at most `maxResponseBytes` of the answer. Never throws: the result says what
 * happened, so a delivery attempt is always recorded.
 */
export async function outboundPost(
  url: string,
  headers: Record<string, string>,
  body: string,
  limits: OutboundLimits = DEFAULT_LIMITS,
): Promise<OutboundResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failed = (error: string, refused = false): OutboundResult => ({
    ok: false,
    status: null,
    body: null,
    durationMs: elapsed(),
    error,
    refused,
  });
  let target: URL;
  try {
    target = checkWebhookUrl(url);
  } catch (err) {
    return failed((err as Error).message, true);
  }
  // An IP literal is not looked up: check it here.
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && !limits.allowPrivate && isPrivateAddress(literal)) {
    return failed(`${literal} is a private, loopback or link-local address; webhooks are not delivered there.`, true);
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<OutboundResult>((resolve) => {
    let settled = false;
    const finish = (result: OutboundResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(result);
    };
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'AutoDev-Webhooks/1',
          ...headers,
          'content-length': String(Buffer.byteLength(body)),
        },
        lookup: guardedLookup(limits.allowPrivate),
        agent: false, // one connection per attempt: nothing pooled to an address checked earlier
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const done = () => {
          const status = res.statusCode ?? 0;
          finish({
            ok: status >= 200 && status < 300,
            status,
            body: Buffer.concat(chunks).toString('utf8'),
            durationMs: elapsed(),
            error: null,
          });
          res.destroy();
          req.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          if (kept < limits.maxResponseBytes) {
            const part = chunk.subarray(0, limits.maxResponseBytes - kept);
            chunks.push(part);
            kept += part.length;
          }
          if (kept >= limits.maxResponseBytes) done(); // the rest is not read
        });
        res.on('end', done);
        res.on('error', done);
      },
    );
    const deadline = setTimeout(() => {
      finish(failed(`No complete answer within ${limits.timeoutMs} ms.`));
      req.destroy();
    }, limits.timeoutMs);
    req.on('error', (err) =>
      finish(failed(err instanceof RefusedDestination ? err.message : `Request failed: ${err.message}`, err instanceof RefusedDestination)),
    );
    req.end(body);
  });
}
