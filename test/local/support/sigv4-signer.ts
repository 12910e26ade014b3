/** The AWS SDK's own SigV4 signer (@smithy/signature-v4, what every SDK v3 client uses) with node:crypto's SHA-256. */
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../../local/iam/node-sha256';

export function sdkSigner(options: { service: string; region: string; accessKeyId: string; secretAccessKey: string; sessionToken?: string }): SignatureV4 {
  return new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}) },
    sha256: NodeSha256,
  });
}
