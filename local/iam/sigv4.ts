/**
 * AWS Signature Version 4, server side: parses the `Authorization` header (or the `X-Amz-*` query parameters of a
 * presigned URL), rebuilds the canonical request the way the AWS SDK for JavaScript v3 signs it, and compares
 * signatures. Returns who signed, or the refusal AWS gives (error type and message; the caller picks the status and
 * body shape of its service).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS accepts a request time up to 5 minutes away from its clock (header signing). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** What signed the request, once the signature checked out. */
export interface SignedBy {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  /** `x-amz-security-token` (or `X-Amz-Security-Token`), if any. */
  readonly sessionToken?: string;
}

/** A refusal: the AWS error type (`x-amzn-ErrorType` / `__type`) and its message. */
export interface SigV4Failure {
  readonly errorType:
    | 'MissingAuthenticationTokenException'
    | 'IncompleteSignatureException'
    | 'InvalidSignatureException'
    | 'UnrecognizedClientException';
  readonly message: string;
}

/** The part of a request the signature covers. */
export interface SignableRequest {
  readonly method: string;
  /** The path and query exactly as received (`req.url`). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** Looks up the secret of an access key; undefined when the key is unknown. */
export type SecretLookup = (accessKeyId: string) => string | undefined;

const INVALID_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key ' +
  'and signing method. Consult the service documentation for details.';
export const INVALID_TOKEN = 'The security token included in the request is invalid.';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** The SDK's `escapeUri`: encodeURIComponent plus `!'()*`. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Canonical URI as the SDK builds it for every service but S3: `.`/`..`/empty segments normalized, then escaped again. */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const joined = `${rawPath.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  return escapeUri(joined).replace(/%2F/g, '/');
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, '%20'));
  } catch {
    return value;
  }
}

function queryPairs(query: string): Array<[string, string]> {
  if (query === '') return [];
  return query.split('&').filter((p) => p !== '').map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
  });
}

function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .filter(([k]) => k.toLowerCase() !== 'x-amz-signature')
    .map(([k, v]) => `${escapeUri(k)}=${escapeUri(v)}`)
    .sort()
    .join('&');
}

function header(headers: SignableRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** `20261201T161500Z` → epoch ms, or NaN. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

interface ParsedAuth {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  requestTime: string;
  sessionToken?: string;
  presigned: boolean;
  expiresSeconds?: number;
}

function parseHeaderAuth(value: string, headers: SignableRequest['headers']): ParsedAuth | SigV4Failure {
  if (!value.startsWith(`${ALGORITHM} `)) {
    return { errorType: 'IncompleteSignatureException', message: `Unsupported AWS 'algorithm': '${value.split(' ')[0]}' (only ${ALGORITHM} is accepted).` };
  }
  const params = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((p) => !params.get(p));
  const requestTime = header(headers, 'x-amz-date') ?? '';
  if (missing.length > 0 || requestTime === '') {
    const problems = missing.map((p) => `Authorization header requires '${p}' parameter.`);
    if (requestTime === '') problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    return { errorType: 'IncompleteSignatureException', message: `${problems.join(' ')} Authorization=${value}` };
  }
  return fromCredential(params.get('Credential')!, params.get('SignedHeaders')!, params.get('Signature')!, requestTime, header(headers, 'x-amz-security-token'), false);
}

function fromCredential(
  credential: string, signedHeaders: string, signature: string, requestTime: string, sessionToken: string | undefined, presigned: boolean,
  expiresSeconds?: number,
): ParsedAuth | SigV4Failure {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1])) {
    return { errorType: 'IncompleteSignatureException', message: `Credential should be scoped to a valid region, not '${parts[2] ?? ''}'. Credential should be scoped with a valid terminator: 'aws4_request', not '${parts[4] ?? ''}'. (${credential})` };
  }
  if (!/^[0-9A-Za-z]{16,128}$/.test(parts[0])) return { errorType: 'UnrecognizedClientException', message: INVALID_TOKEN };
  return {
    accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3], signedHeaders: signedHeaders.split(';'),
    signature, requestTime, sessionToken, presigned, expiresSeconds,
  };
}

/**
 * The access key and region of an Authorization header's credential scope (`Credential=AKID/DATE/REGION/...`), read
 * without verifying anything: for routing and defaults before (or without) `verifySigV4`. Undefined fields when absent.
 */
export function credentialScope(authorization: string | undefined): { accessKeyId?: string; region?: string } {
  const m = /Credential=([^/]+)\/(?:\d{8}\/([^/]+)\/)?/.exec(authorization ?? '');
  return { ...(m?.[1] ? { accessKeyId: m[1] } : {}), ...(m?.[2] ? { region: m[2] } : {}) };
}

/** Key derivation is the costly part; a role signs with one key per day, region and service. */
const signingKeys = new Map<string, Buffer>();
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (!key) {
    if (signingKeys.size > 1000) signingKeys.clear();
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
    signingKeys.set(id, key);
  }
  return key;
}

/**
 * Verifies a SigV4-signed request. `expectedService` is the signing name the endpoint answers to (`dynamodb`,
 * `execute-api`, `secretsmanager`); `now` is for tests.
 */
export function verifySigV4(
  request: SignableRequest, lookup: SecretLookup, expectedService: string, now: number = Date.now(),
): SignedBy | SigV4Failure {
  const qIndex = request.url.indexOf('?');
  const rawPath = qIndex < 0 ? request.url : request.url.slice(0, qIndex);
  const pairs = queryPairs(qIndex < 0 ? '' : request.url.slice(qIndex + 1));
  const authorization = header(request.headers, 'authorization');
  const q = new Map(pairs.map(([k, v]) => [k.toLowerCase(), v]));
  let parsed: ParsedAuth | SigV4Failure;
  if (authorization !== undefined && authorization !== '') {
    parsed = parseHeaderAuth(authorization, request.headers);
  } else if (q.has('x-amz-signature') || q.has('x-amz-credential')) {
    const missing = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature'].filter((p) => !q.get(p.toLowerCase()));
    if (missing.length > 0) {
      return { errorType: 'IncompleteSignatureException', message: missing.map((p) => `AWS query-string parameters must include '${p}'.`).join(' ') };
    }
    const expires = q.has('x-amz-expires') ? Number(q.get('x-amz-expires')) : undefined;
    parsed = fromCredential(q.get('x-amz-credential')!, q.get('x-amz-signedheaders')!, q.get('x-amz-signature')!, q.get('x-amz-date')!, q.get('x-amz-security-token'), true, expires);
  } else {
    return { errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  }
  if ('errorType' in parsed) return parsed;
  if (parsed.service !== expectedService) {
    return { errorType: 'InvalidSignatureException', message: `Credential should be scoped to correct service: '${expectedService}'.` };
  }
  const time = parseAmzDate(parsed.requestTime);
  if (Number.isNaN(time)) {
    return { errorType: 'IncompleteSignatureException', message: `Date must be in ISO-8601 'basic format'. Got '${parsed.requestTime}'. See http://en.wikipedia.org/wiki/ISO_8601` };
  }
  if (parsed.requestTime.slice(0, 8) !== parsed.date) {
    return { errorType: 'InvalidSignatureException', message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.date}' != '${parsed.requestTime.slice(0, 8)}', from '${parsed.requestTime}'.` };
  }
  if (parsed.presigned) {
    const expires = parsed.expiresSeconds ?? 900;
    if (time + expires * 1000 < now) {
      return { errorType: 'InvalidSignatureException', message: `Signature expired: ${parsed.requestTime} is now earlier than ${amzDate(now - expires * 1000)} (${amzDate(now)} - ${expires} sec.)` };
    }
  } else if (time < now - MAX_CLOCK_SKEW_MS) {
    return { errorType: 'InvalidSignatureException', message: `Signature expired: ${parsed.requestTime} is now earlier than ${amzDate(now - MAX_CLOCK_SKEW_MS)} (${amzDate(now)} - 5 min.)` };
  } else if (time > now + MAX_CLOCK_SKEW_MS) {
    return { errorType: 'InvalidSignatureException', message: `Signature not yet current: ${parsed.requestTime} is still later than ${amzDate(now + MAX_CLOCK_SKEW_MS)} (${amzDate(now)} + 5 min.)` };
  }
  const secret = lookup(parsed.accessKeyId);
  if (secret === undefined) return { errorType: 'UnrecognizedClientException', message: INVALID_TOKEN };

  if (!parsed.signedHeaders.includes('host')) {
    return { errorType: 'InvalidSignatureException', message: `'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.` };
  }
  const canonicalHeaders = parsed.signedHeaders
    .map((name) => `${name}:${(header(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  // The hash of the body as received (an `x-amz-content-sha256` header cannot vouch for another body); a presigned
  // URL may also be signed with UNSIGNED-PAYLOAD, as some signers do.
  const key = signingKey(secret, parsed.date, parsed.region, parsed.service);
  const scope = `${parsed.date}/${parsed.region}/${parsed.service}/aws4_request`;
  const attempt = (payloadHash: string) => {
    const canonicalRequest = [
      request.method.toUpperCase(), canonicalPath(rawPath), canonicalQuery(pairs), canonicalHeaders, parsed.signedHeaders.join(';'), payloadHash,
    ].join('\n');
    const stringToSign = `${ALGORITHM}\n${parsed.requestTime}\n${scope}\n${sha256(canonicalRequest)}`;
    const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
    const given = Buffer.from(parsed.signature, 'utf8');
    return { canonicalRequest, stringToSign, ok: given.length === expected.length && timingSafeEqual(given, Buffer.from(expected, 'utf8')) };
  };
  const first = attempt(sha256(request.body));
  const { canonicalRequest, stringToSign, ok } = first.ok || !parsed.presigned ? first : attempt('UNSIGNED-PAYLOAD');
  if (!ok) {
    return {
      errorType: 'InvalidSignatureException',
      message: `${INVALID_SIGNATURE}\n\nThe Canonical String for this request should have been\n'${canonicalRequest}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
    };
  }
  return { accessKeyId: parsed.accessKeyId, region: parsed.region, service: parsed.service, ...(parsed.sessionToken ? { sessionToken: parsed.sessionToken } : {}) };
}
