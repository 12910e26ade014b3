/**
 * A tiny Secrets Manager for the emulator: answers `GetSecretValue` (JSON protocol, X-Amz-Target
 * `secretsmanager.GetSecretValue`) for the template's secrets, by ARN, partial ARN or name, with the local
 * development key; `ResourceNotFoundException` for any other secret, a clear error for any other operation.
 */
import * as http from 'http';
import type { IamAuthority } from '../iam/credentials';
import { listenOnLoopback } from './loopback';

export const LOCAL_SECRET_FALLBACK = 'wsgate-local-development-secret';

export interface SecretsServiceOptions {
  /** `AssemblyModel.secrets`: `Stack/LogicalId` → ARN. */
  readonly secrets: Record<string, string>;
  /** SecretString every secret answers with. @default 'wsgate-local-development-secret' (LOCAL_SECRET_DEFAULT) */
  readonly secretValue?: string;
  /** Verifies signatures and checks `secretsmanager:GetSecretValue` on the secret's ARN. @default - any caller is answered */
  readonly iam?: IamAuthority;
  /** For secrets the template does not have (only named in refusals). @default 'us-east-1' / '123456789012' */
  readonly region?: string;
  readonly accountId?: string;
}

export interface SecretsService {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** `arn:...:secret:name-AbCdEf` → `name` (Secrets Manager adds six characters after a dash). */
function nameOf(arn: string): string {
  return arn.replace(/^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:/, '').replace(/-[A-Za-z0-9]{6}$/, '');
}

export async function startSecretsService(options: SecretsServiceOptions): Promise<SecretsService> {
  if (!options || typeof options.secrets !== 'object' || options.secrets === null) {
    throw new Error('startSecretsService: options.secrets must map Stack/LogicalId to secret ARNs');
  }
  const secretValue = options.secretValue ?? LOCAL_SECRET_FALLBACK;
  if (typeof secretValue !== 'string' || secretValue === '') throw new Error('startSecretsService: secretValue must be a non-empty string');
  const byId = new Map<string, string>();
  for (const arn of Object.values(options.secrets)) {
    byId.set(arn, arn);
    byId.set(nameOf(arn), arn);
    byId.set(arn.replace(/-[A-Za-z0-9]{6}$/, ''), arn);
  }
  const created = Date.now() / 1000;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      const fail = (status: number, type: string, message: string) => {
        res.setHeader('x-amzn-ErrorType', type);
        reply(status, { __type: type, message, Message: message });
      };
      // The signature first, as AWS checks it before reading the request (the policy is checked below, per secret).
      if (options.iam) {
        const signed = options.iam.authorize(
          { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) }, 'secretsmanager', () => [],
        );
        if (!signed.ok && signed.kind === 'signature') return fail(400, signed.failure.errorType, signed.failure.message);
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'secretsmanager.GetSecretValue') {
        fail(400, 'InvalidRequestException', `The wsgate emulator answers only secretsmanager.GetSecretValue, not ${target || '(no X-Amz-Target)'}`);
        return;
      }
      let input: { SecretId?: unknown };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        fail(400, 'InvalidParameterException', 'The request body is not valid JSON');
        return;
      }
      if (typeof input.SecretId !== 'string' || input.SecretId === '') {
        fail(400, 'InvalidParameterException', 'SecretId must be a non-empty string (ARN or name)');
        return;
      }
      const arn = byId.get(input.SecretId);
      if (options.iam) {
        const secretId = input.SecretId;
        const resource = arn ?? (secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:${options.region ?? 'us-east-1'}:${options.accountId ?? '123456789012'}:secret:${secretId}`);
        const outcome = options.iam.authorize(
          { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) },
          'secretsmanager', 'secretsmanager:GetSecretValue', [resource],
        );
        if (!outcome.ok) {
          if (outcome.kind === 'signature') return fail(400, outcome.failure.errorType, outcome.failure.message);
          return fail(400, 'AccessDeniedException', outcome.message);
        }
      }
      if (!arn) {
        fail(400, 'ResourceNotFoundException', `Secrets Manager can't find the specified secret: ${input.SecretId} (the emulator knows only the template's secrets)`);
        return;
      }
      reply(200, { ARN: arn, Name: nameOf(arn), SecretString: secretValue, VersionId: '00000000-0000-4000-8000-000000000001', VersionStages: ['AWSCURRENT'], CreatedDate: created });
    });
  });
  const port = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
