/**
 * local/iam/sigv4.ts against the AWS SDK's own signer (@smithy/signature-v4, what every SDK v3 client uses):
 * a request it signs verifies, header and presigned (query) forms; any change of method, path, query, signed
 * header or body, a wrong secret, an unknown key, a stale or future clock, and malformed headers are refused
 * with AWS's error types.
 */
import { sdkSigner } from './support/sigv4-signer';
import { verifySigV4, type SignableRequest } from '../../local/iam/sigv4';

const KEY = { accessKeyId: 'AKIAEXAMPLEKEY000001', secretAccessKey: 'example-secret' };
const lookup = (id: string): string | undefined => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined);
const NOW = Date.UTC(2026, 11, 1, 16, 0, 0);

function signer(service = 'execute-api', secretAccessKey = KEY.secretAccessKey) {
  return sdkSigner({ service, region: 'eu-west-1', ...KEY, secretAccessKey });
}

/** Signs like the SDK does and returns what a server receives (path and query as on the wire, lower-case headers). */
async function signed(options: { method?: string; path?: string; query?: Record<string, string>; body?: string; presign?: boolean; secret?: string; service?: string } = {}): Promise<SignableRequest> {
  const request = {
    method: options.method ?? 'POST',
    protocol: 'https:',
    hostname: 'abc123defg.execute-api.eu-west-1.amazonaws.com',
    path: options.path ?? '/prod/%40connections/AbC%3D',
    query: options.query ?? {},
    headers: { host: 'abc123defg.execute-api.eu-west-1.amazonaws.com', 'content-type': 'application/octet-stream' } as Record<string, string>,
    body: options.body ?? 'hello',
  };
  const s = signer(options.service, options.secret);
  const out = (options.presign
    ? await s.presign(request as never, { signingDate: new Date(NOW), expiresIn: 300 })
    : await s.sign(request as never, { signingDate: new Date(NOW) })) as { method: string; path: string; headers: Record<string, string> };
  const query = Object.entries((out as { query?: Record<string, string> }).query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const headers = Object.fromEntries(Object.entries(out.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: out.method as string, url: `${out.path}${query ? `?${query}` : ''}`, headers, body: Buffer.from(request.body) };
}

describe('verifySigV4', () => {
  test('GIVEN a request the SDK signed (header form, and presigned with a query) WHEN verified THEN it names the key, region and service', async () => {
    expect(verifySigV4(await signed(), lookup, 'execute-api', NOW)).toEqual({ accessKeyId: KEY.accessKeyId, region: 'eu-west-1', service: 'execute-api' });
    const withQuery = await signed({ method: 'GET', query: { b: 'two words', a: '1' }, body: '' });
    expect(verifySigV4(withQuery, lookup, 'execute-api', NOW)).toMatchObject({ accessKeyId: KEY.accessKeyId });
    const presigned = await signed({ method: 'GET', presign: true, body: '', query: { 'X-Amz-Custom': 'x' } });
    expect(presigned.headers.authorization).toBeUndefined();
    expect(verifySigV4(presigned, lookup, 'execute-api', NOW + 60_000)).toMatchObject({ accessKeyId: KEY.accessKeyId });
  });

  test('GIVEN a signed request WHEN the method, path, query, a signed header or the body changes THEN InvalidSignatureException showing the canonical request', async () => {
    const good = await signed({ query: { a: '1' } });
    const variants: SignableRequest[] = [
      { ...good, method: 'PUT' },
      { ...good, url: good.url.replace('AbC', 'XyZ') },
      { ...good, url: good.url.replace('a=1', 'a=2') },
      { ...good, headers: { ...good.headers, 'content-type': 'text/plain' } },
      { ...good, body: Buffer.from('hellO') },
    ];
    for (const variant of variants) {
      expect(verifySigV4(variant, lookup, 'execute-api', NOW)).toEqual({
        errorType: 'InvalidSignatureException',
        message: expect.stringMatching(/^The request signature we calculated does not match the signature you provided\. .*\n\nThe Canonical String for this request should have been\n'/s),
      });
    }
  });

  test('GIVEN a wrong secret, an unknown key or another service\'s scope WHEN verified THEN AWS\'s refusal for each', async () => {
    expect(verifySigV4(await signed({ secret: 'wrong' }), lookup, 'execute-api', NOW)).toMatchObject({ errorType: 'InvalidSignatureException' });
    expect(verifySigV4(await signed(), () => undefined, 'execute-api', NOW)).toEqual({
      errorType: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.',
    });
    expect(verifySigV4(await signed({ service: 'dynamodb' }), lookup, 'execute-api', NOW)).toEqual({
      errorType: 'InvalidSignatureException', message: "Credential should be scoped to correct service: 'execute-api'.",
    });
  });

  test('GIVEN a clock more than 5 minutes behind or ahead, or a presigned URL past its expiry WHEN verified THEN Signature expired / not yet current', async () => {
    const request = await signed();
    expect(verifySigV4(request, lookup, 'execute-api', NOW + 4 * 60_000)).toMatchObject({ accessKeyId: KEY.accessKeyId });
    expect(verifySigV4(request, lookup, 'execute-api', NOW + 6 * 60_000)).toEqual({
      errorType: 'InvalidSignatureException',
      message: 'Signature expired: 20261201T160000Z is now earlier than 20261201T160100Z (20261201T160600Z - 5 min.)',
    });
    expect(verifySigV4(request, lookup, 'execute-api', NOW - 6 * 60_000)).toEqual({
      errorType: 'InvalidSignatureException',
      message: 'Signature not yet current: 20261201T160000Z is still later than 20261201T155900Z (20261201T155400Z + 5 min.)',
    });
    const presigned = await signed({ method: 'GET', presign: true, body: '' });
    expect(verifySigV4(presigned, lookup, 'execute-api', NOW + 301_000)).toMatchObject({ errorType: 'InvalidSignatureException', message: expect.stringMatching(/^Signature expired: /) });
  });

  test('GIVEN no signature, a malformed Authorization header or another algorithm WHEN verified THEN MissingAuthenticationToken / IncompleteSignature', () => {
    const bare = { method: 'POST', url: '/prod/@connections/x', headers: { host: 'h' }, body: Buffer.alloc(0) };
    expect(verifySigV4(bare, lookup, 'execute-api', NOW)).toEqual({ errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    for (const authorization of ['AWS4-HMAC-SHA256 Credential=x', 'AWS4-HMAC-SHA256 ', 'Bearer abc', 'AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00']) {
      const out = verifySigV4({ ...bare, headers: { host: 'h', authorization, 'x-amz-date': '20261201T160000Z' } }, lookup, 'execute-api', NOW);
      expect(out).toMatchObject({ errorType: 'IncompleteSignatureException' });
    }
    const noDate = verifySigV4({ ...bare, headers: { host: 'h', authorization: `AWS4-HMAC-SHA256 Credential=${KEY.accessKeyId}/20261201/eu-west-1/execute-api/aws4_request, SignedHeaders=host, Signature=00` } }, lookup, 'execute-api', NOW);
    expect(noDate).toMatchObject({ errorType: 'IncompleteSignatureException', message: expect.stringMatching(/X-Amz-Date/) });
  });
});
