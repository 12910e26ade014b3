/**
 * A self-signed certificate for the emulator's TLS endpoint, valid for 127.0.0.1, localhost and the given hosts
 * (wildcards such as `*.execute-api.us-east-1.amazonaws.com` allowed), written to a temp PEM file that function
 * processes trust through NODE_EXTRA_CA_CERTS.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generate } from 'selfsigned';

export interface LocalCertificate {
  readonly cert: string;
  readonly key: string;
  /** PEM file of `cert` (for NODE_EXTRA_CA_CERTS). */
  readonly certFile: string;
}

const HOST = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

export async function createCertificate(hosts: readonly string[] = []): Promise<LocalCertificate> {
  if (!Array.isArray(hosts)) throw new Error('createCertificate: hosts must be an array of host names');
  const names = [...new Set(['localhost', ...hosts.map((h) => String(h).replace(/:\d+$/, ''))])];
  const bad = names.filter((h) => !HOST.test(h));
  if (bad.length) throw new Error(`createCertificate: not host names: ${bad.join(', ')}`);
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'wsgate local emulator' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, ...names.map((value) => ({ type: 2 as const, value }))] },
    ],
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-cert-'));
  const certFile = path.join(dir, 'emulator-ca.pem');
  fs.writeFileSync(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, certFile };
}
