/**
 * `npm run -s token -- <user> [--issuer I] [--audience A] [--secret S] [--ttl SECONDS] [--alg HS256|RS256|ES256] [--key-file F]`
 * Prints a development JWT for <user> alone on stdout, signed like the example app expects when it runs
 * in the emulator (local secret, example issuer and audience), or, with --alg RS256/ES256, with the emulator's local
 * issuer keys (for an authorizer with a jwksUrl). Bad arguments: a message on stderr, exit 2.
 */
import { parseArgs } from 'node:util';
import {
  DEV_TOKEN_TTL_SECONDS_DEFAULT,
  EXAMPLE_AUDIENCE,
  EXAMPLE_ISSUER,
  LOCAL_SECRET_DEFAULT,
  signDevToken,
} from '../local/dev-token';
import { LOCAL_ISSUER_ALGORITHMS, LOCAL_ISSUER_KEY_FILE_DEFAULT, loadOrCreateIssuerKeys, signIssuerToken, type LocalIssuerAlgorithm } from '../local/services/jwks';

/** The example app's stage (WebSocketGateway's default stage name). */
const EXAMPLE_STAGE = 'prod';
const ALGORITHMS = ['HS256', ...LOCAL_ISSUER_ALGORITHMS];

const USAGE = `Usage: npm run -s token -- <user> [options]

Prints a JWT with sub=<user> for the local emulator's authorizer.

Options:
  --issuer <iss>     iss claim (default ${EXAMPLE_ISSUER}); for a jwksUrl app, the issuer the app sets
  --audience <aud>   aud claim (default ${EXAMPLE_AUDIENCE}); for a jwksUrl app, the audience (client id) it sets
  --alg <alg>        ${ALGORITHMS.join(' | ')} (default HS256). RS256/ES256 sign with the emulator's local
                     issuer keys, for an app whose authorizer has a jwksUrl (the emulator answers that URL)
  --secret <key>     HS256 key (default: the emulator's local secret, ${LOCAL_SECRET_DEFAULT})
  --key-file <path>  local issuer keys for RS256/ES256 (default ${LOCAL_ISSUER_KEY_FILE_DEFAULT}, shared with the
                     emulator started from the same folder; made when missing)
  --ttl <seconds>    lifetime in whole seconds (default ${DEV_TOKEN_TTL_SECONDS_DEFAULT}); the authorizer allows 30 s
                     of clock skew on exp/iat
  -h, --help         show this help

Example: wscat -c "ws://127.0.0.1:3001/${EXAMPLE_STAGE}?token=$(npm run -s token -- alice)"
         (the example's stage is ${EXAMPLE_STAGE}; the emulator prints each stage's URL when it starts)
`;

class UsageError extends Error {}

interface TokenArgs {
  readonly help: boolean;
  readonly user?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly secret?: string;
  readonly ttlSeconds?: number;
  readonly algorithm?: string;
  readonly keyFile?: string;
}

function parseTtl(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(value)) throw new UsageError(`--ttl must be a positive whole number of seconds, got ${JSON.stringify(value)}`);
  return Number(value);
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') throw new UsageError(`--${flag} must not be empty`);
  return value;
}

export function parseTokenArgs(argv: string[]): TokenArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        issuer: { type: 'string' },
        audience: { type: 'string' },
        secret: { type: 'string' },
        ttl: { type: 'string' },
        alg: { type: 'string' },
        'key-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'missing <user>' : `expected one <user>, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  const user = positionals[0];
  if (user.trim() === '') throw new UsageError('<user> must not be empty');
  const algorithm = values.alg;
  if (algorithm !== undefined && !ALGORITHMS.includes(algorithm)) {
    throw new UsageError(`--alg must be one of ${ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}`);
  }
  if (values.secret !== undefined && algorithm !== undefined && algorithm !== 'HS256') throw new UsageError('--secret is for HS256 only');
  if (values['key-file'] !== undefined && (algorithm ?? 'HS256') === 'HS256') throw new UsageError('--key-file is for --alg RS256 or ES256');
  return {
    help: false,
    user,
    issuer: nonEmpty('issuer', values.issuer),
    audience: nonEmpty('audience', values.audience),
    secret: nonEmpty('secret', values.secret),
    ttlSeconds: parseTtl(values.ttl),
    algorithm,
    keyFile: nonEmpty('key-file', values['key-file']),
  };
}

async function main(argv: string[]): Promise<number> {
  let args: TokenArgs;
  try {
    args = parseTokenArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`token: ${err.message}\nRun with --help for usage.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.algorithm !== undefined && args.algorithm !== 'HS256') {
    const token = signIssuerToken({
      keys: loadOrCreateIssuerKeys(args.keyFile ?? LOCAL_ISSUER_KEY_FILE_DEFAULT),
      algorithm: args.algorithm as LocalIssuerAlgorithm,
      user: args.user as string,
      issuer: args.issuer ?? EXAMPLE_ISSUER,
      audience: args.audience ?? EXAMPLE_AUDIENCE,
      ttlSeconds: args.ttlSeconds,
    });
    process.stdout.write(`${token}\n`);
    return 0;
  }
  const token = await signDevToken({
    user: args.user as string,
    issuer: args.issuer,
    audience: args.audience,
    secret: args.secret,
    ttlSeconds: args.ttlSeconds,
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`token: ${(err as Error)?.message ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
