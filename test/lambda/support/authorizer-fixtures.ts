/** Values the authorizer's tests share: the expected issuer and audience, the HS256 test secret and where it lives. */
import type { TokenSource } from '../../../lambda/gateway/auth/config';

export const ISSUER = 'https://issuer.test/';
export const AUDIENCE = 'wsgate-test';
export const SECRET = 'a-test-hs256-key-that-is-long-enough-0123456789';
export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:wsgate-jwt-AbCdEf';
/** The `$connect` route's ARN in the authorizer's events. */
export const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/$connect';
export const QUERY_SOURCE: TokenSource = { location: 'querystring', name: 'token' };
export const HEADER_SOURCE: TokenSource = { location: 'header', name: 'Authorization' };
/** Now, in seconds (JWT times). */
export const now = (): number => Math.floor(Date.now() / 1000);
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
