/**
 * Physical ids the emulator assigns, shaped like AWS's and derived from the stack name and logical id,
 * so a restart of the emulator keeps the same API URLs and table names.
 */
import { createHash } from 'crypto';

const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters of `alphabet`, the same for the same seed. */
export function stableId(seed: string, length: number, alphabet: string = LOWER): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    const digest = createHash('sha256').update(`${round}:${seed}`).digest();
    for (const byte of digest) {
      if (out.length === length) break;
      out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** API Gateway ids: 10 lowercase alphanumerics for APIs, 7 for routes, integrations, authorizers. */
export function apiGatewayId(stackName: string, logicalId: string, length: 10 | 7): string {
  return stableId(`${stackName}/${logicalId}`, length, LOWER);
}

/** CloudFormation's generated names: `Stack-LogicalId-SUFFIX`, cut to `maxLength`. */
export function generatedName(stackName: string, logicalId: string, maxLength: number, upperSuffix = true): string {
  const suffix = stableId(`${stackName}/${logicalId}`, 12, upperSuffix ? UPPER : MIXED);
  const room = maxLength - suffix.length - 2;
  let head = `${stackName}-${logicalId}`;
  if (head.length > room) {
    const stackPart = stackName.slice(0, Math.max(1, room - logicalId.length - 1));
    head = `${stackPart}-${logicalId}`.slice(0, room);
  }
  return `${head}-${suffix}`;
}

/** Secrets Manager appends `-` and six random characters to a secret's name in its ARN. */
export function secretArnSuffix(stackName: string, logicalId: string): string {
  return stableId(`secret:${stackName}/${logicalId}`, 6, MIXED);
}
