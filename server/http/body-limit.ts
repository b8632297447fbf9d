import type http from 'node:http';

const send = (res: http.ServerResponse, status: number, code: string, message: string) =>
  res
    .writeHead(status, { 'content-type': 'application/json', connection: 'close' })
    .end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));

/**
 * Refuses a request body over `max` bytes before anything reads it (413), and a body of unknown
 * length (411): every GraphQL client sends Content-Length, and it lets the limit hold without
 * buffering.
 */
export function refuseOversizedBody(req: http.IncomingMessage, res: http.ServerResponse, max: number): boolean {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return false;
  const length = req.headers['content-length'];
  if (length === undefined) {
    if (!req.headers['transfer-encoding']) return false; // no body at all
    send(res, 411, 'LENGTH_REQUIRED', 'Send the request body with a Content-Length header.');
    return true;
  }
  if (!/^\d+$/.test(length) || Number(length) > max) {
    send(res, 413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${max} bytes.`);
    return true;
  }
  return false;
}
