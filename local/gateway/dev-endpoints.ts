/**
 * Development endpoints on the gateway's port, for local use only:
 * - `GET /_wsgate/token?user=NAME` → `{"token": "...", "user": "NAME"}`, an HS256 JWT from `signDevToken`;
 * - `GET /_wsgate/app/...` → files of a static folder (the browser demo), never outside that folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signDevToken } from '../dev-token';
import type { ExtraHttpHandler } from './gateway';
import { sendJson } from './http-responses';

export const TOKEN_PATH = '/_wsgate/token';
export const APP_PATH = '/_wsgate/app/';

export interface DevEndpointsOptions {
  /** Signing key of the tokens (what the local Secrets Manager answers). */
  readonly secret: string;
  /** `iss` / `aud` of the tokens. @default signDevToken's defaults (the example app's) */
  readonly issuer?: string;
  readonly audience?: string;
  /** Folder served at /_wsgate/app/. @default - not served */
  readonly staticDir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

async function serveToken(res: ServerResponse, url: URL, options: DevEndpointsOptions): Promise<void> {
  const user = url.searchParams.get('user') ?? '';
  if (user.trim() === '' || user.length > 128) {
    sendJson(res, 400, { message: 'Give a user name: GET /_wsgate/token?user=NAME (1 to 128 characters)' });
    return;
  }
  const token = await signDevToken({ user, secret: options.secret, issuer: options.issuer, audience: options.audience });
  sendJson(res, 200, { token, user }, { 'Cache-Control': 'no-store' });
}

function serveStatic(res: ServerResponse, url: URL, root: string): void {
  let relative: string;
  try {
    relative = decodeURIComponent(url.pathname.slice(APP_PATH.length)) || 'index.html';
  } catch {
    sendJson(res, 400, { message: 'Bad path' });
    return;
  }
  const file = path.resolve(root, relative);
  if (file !== root && !file.startsWith(root + path.sep)) {
    sendJson(res, 404, { message: 'Not Found' });
    return;
  }
  fs.stat(file, (err, stat) => {
    const target = !err && stat.isDirectory() ? path.join(file, 'index.html') : file;
    fs.readFile(target, (readErr, data) => {
      if (readErr) return sendJson(res, 404, { message: `Not Found: ${url.pathname}` });
      res.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(target)] ?? 'application/octet-stream', 'Content-Length': data.length });
      res.end(data);
    });
  });
}

export function devEndpoints(options: DevEndpointsOptions): ExtraHttpHandler {
  const root = options.staticDir ? path.resolve(options.staticDir) : undefined;
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (url.pathname === TOKEN_PATH && req.method === 'GET') {
      req.resume();
      await serveToken(res, url, options);
      return true;
    }
    if (root && req.method === 'GET' && (url.pathname === APP_PATH.slice(0, -1) || url.pathname.startsWith(APP_PATH))) {
      req.resume();
      if (url.pathname === APP_PATH.slice(0, -1)) {
        res.writeHead(301, { Location: APP_PATH });
        res.end();
      } else {
        serveStatic(res, url, root);
      }
      return true;
    }
    return false;
  };
}
