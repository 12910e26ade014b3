/**
 * `npm run -s token -- <user> [--issuer I] [--audience A] [--secret S] [--ttl SECONDS]`
 * Prints a development JWT for <user> alone on stdout, signed like the example app expects when it runs
 * in the emulator (local secret, example issuer and audience). Bad arguments: a message on stderr, exit 2.
 */
import { parseArgs } from 'node:util';
import {
  DEV_TOKEN_TTL_SECONDS_DEFAULT,
  EXAMPLE_AUDIENCE,
  EXAMPLE_ISSUER,
  LOCAL_SECRET_DEFAULT,
  signDevToken,
} from '../local/dev-token';

const USAGE = `Usage: npm run -s token -- <user> [options]

Prints an HS256 JWT with sub=<user> for the local emulator's authorizer.

Options:
  --issuer <iss>     iss claim (default ${EXAMPLE_ISSUER})
  --audience <aud>   aud claim (default ${EXAMPLE_AUDIENCE})
  --secret <key>     HS256 key (default: the emulator's local secret, ${LOCAL_SECRET_DEFAULT})
  --ttl <seconds>    lifetime in whole seconds (default ${DEV_TOKEN_TTL_SECONDS_DEFAULT})
  -h, --help         show this help

Example: wscat -c "ws://127.0.0.1:3001/dev?token=$(npm run -s token -- alice)"
`;

class UsageError extends Error {}

interface TokenArgs {
  readonly help: boolean;
  readonly user?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly secret?: string;
  readonly ttlSeconds?: number;
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
  return {
    help: false,
    user,
    issuer: nonEmpty('issuer', values.issuer),
    audience: nonEmpty('audience', values.audience),
    secret: nonEmpty('secret', values.secret),
    ttlSeconds: parseTtl(values.ttl),
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
