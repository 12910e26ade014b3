/** Small HTTP helpers: JSON / AWS-style error responses, raw rejections of upgrade requests, bounded body reads. */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * An error the AWS SDK v3 maps to a typed exception: the code in `x-amzn-ErrorType` and a JSON body (spec §5; a
 * non-JSON body would make the SDK throw a SyntaxError instead).
 */
export function sendAwsError(res: ServerResponse, status: number, errorType: string, message: string): void {
  sendJson(res, status, { message }, { 'x-amzn-ErrorType': errorType });
}

/** Answers an upgrade request with a plain HTTP status and closes the socket (the handshake fails with that status). */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Reads a request body up to `limit` bytes; resolves `undefined` when it is larger (the rest is drained). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
