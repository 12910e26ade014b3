/** The AWS SDK's own SigV4 signer (@smithy/signature-v4, what every SDK v3 client uses) with node:crypto's SHA-256. */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? createHmac('sha256', Sha256.bytes(secret)) : createHash('sha256');
  }
  private static bytes(data: string | ArrayBuffer | ArrayBufferView): string | Buffer {
    if (typeof data === 'string') return data;
    return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(Sha256.bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

export function sdkSigner(options: { service: string; region: string; accessKeyId: string; secretAccessKey: string; sessionToken?: string }): SignatureV4 {
  return new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}) },
    sha256: Sha256,
  });
}
