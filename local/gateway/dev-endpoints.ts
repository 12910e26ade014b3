/**
 * Development endpoints on the gateway's port, for local use only:
 * - `GET /_wsgate/token?user=NAME[&alg=HS256|RS256|ES256]` → `{"token": "...", "user": "NAME", "alg": "..."}`: an HS256
 *   JWT from `signDevToken`, or, when the authorizer verifies against a JWKS URL the emulator answers, an RS256 (the
 *   default then) or ES256 JWT from the local issuer's keys (services/jwks.ts);
 * - `GET /_wsgate/app/...` → files of a static folder (the browser demo), never outside that folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EXAMPLE_AUDIENCE, EXAMPLE_ISSUER, signDevToken } from '../dev-token';
import { LOCAL_ISSUER_ALGORITHMS, signIssuerToken, type LocalIssuerAlgorithm, type LocalIssuerKeys } from '../services/jwks';
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
  /** The local issuer's keys, when the authorizer verifies against a JWKS URL. @default - HS256 tokens only */
  readonly issuerKeys?: LocalIssuerKeys;
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
  const alg = url.searchParams.get('alg') ?? (options.issuerKeys ? 'RS256' : 'HS256');
  if (alg !== 'HS256' && !(options.issuerKeys && (LOCAL_ISSUER_ALGORITHMS as readonly string[]).includes(alg))) {
    const offered = options.issuerKeys ? ['HS256', ...LOCAL_ISSUER_ALGORITHMS].join(', ') : 'HS256 (no authorizer of the app has a JWKS_URL)';
    sendJson(res, 400, { message: `alg ${JSON.stringify(alg)} is not offered; use ${offered}` });
    return;
  }
  const token = alg === 'HS256'
    ? await signDevToken({ user, secret: options.secret, issuer: options.issuer, audience: options.audience })
    : signIssuerToken({
      keys: options.issuerKeys!,
      algorithm: alg as LocalIssuerAlgorithm,
      user,
      issuer: options.issuer ?? EXAMPLE_ISSUER,
      audience: options.audience ?? EXAMPLE_AUDIENCE,
    });
  sendJson(res, 200, { token, user, alg }, { 'Cache-Control': 'no-store' });
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
