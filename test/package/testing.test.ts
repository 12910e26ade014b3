/**
 * testing/index.ts (`wsgate/testing`): masking wsgate's handler asset hashes in a consumer's snapshot, on a real
 * synthesized stack that has wsgate's bundled functions and a function of the user's own.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { format } from 'pretty-format';
import { BundledHandler, RouteHandler, WebSocketGateway } from '../../lib';
import { ASSET_HASH_PLACEHOLDER, maskAssetHashes, wsgateAssetHashes, wsgateSnapshotSerializer } from '../../testing';
import serializerModule = require('../../testing/serializer');

const HASH = /[0-9a-f]{64}/g;
let work: string;
let template: Template;
let userAssetHash: string;

function functionCodes(json: any): Record<string, { S3Key: unknown }> {
  return Object.fromEntries(
    Object.entries(json.Resources as Record<string, any>)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id, r]) => [id, r.Properties.Code]),
  );
}

beforeAll(() => {
  // GIVEN a stack with wsgate's bundled functions (gateway + join route) and a user function from its own asset
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-testing-'));
  const userCode = path.join(work, 'orders');
  fs.mkdirSync(userCode);
  fs.writeFileSync(path.join(userCode, 'index.js'), 'exports.handler = async () => ({ statusCode: 200 });\n');
  const stack = new Stack(new App(), 'Consumer');
  const gateway = new WebSocketGateway(stack, 'Gateway', { issuer: 'https://issuer.example', audience: 'aud' });
  gateway.addRoute('join', { handler: RouteHandler.bundled(BundledHandler.JOIN) });
  const orders = new lambda.Function(stack, 'Orders', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(userCode) });
  gateway.addRoute('orders', { handler: RouteHandler.fromFunction(orders) });
  template = Template.fromStack(stack);
  userAssetHash = String(template.toJSON().Resources[stack.getLogicalId(orders.node.defaultChild as lambda.CfnFunction)].Properties.Code.S3Key).replace('.zip', '');
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe('maskAssetHashes', () => {
  test("THEN every wsgate function's S3Key names its handler instead of its hash, and the user's own asset keeps its hash", () => {
    // WHEN the template is masked
    const masked = maskAssetHashes(template);
    // THEN each bundled function's code key is the placeholder of its bundle; the user's is untouched
    const keys = Object.values(functionCodes(masked)).map((code) => code.S3Key);
    expect(keys).toEqual(
      expect.arrayContaining([
        '[wsgate-asset:authorizer].zip',
        '[wsgate-asset:connect].zip',
        '[wsgate-asset:disconnect].zip',
        '[wsgate-asset:default].zip',
        '[wsgate-asset:join].zip',
        `${userAssetHash}.zip`,
      ]),
    );
    // no hash of a wsgate bundle is left anywhere, and the user's hash is the only hash left
    const text = JSON.stringify(masked);
    for (const hash of Object.values(wsgateAssetHashes())) expect(text).not.toContain(hash);
    expect(new Set(text.match(HASH))).toEqual(new Set([userAssetHash]));
    // and the original template is not changed
    expect(JSON.stringify(template.toJSON())).toContain(wsgateAssetHashes().join);
  });

  test('THEN a template JSON (Template.toJSON()) is masked the same way as the Template', () => {
    expect(maskAssetHashes(template.toJSON())).toEqual(maskAssetHashes(template));
  });

  test('WHEN a new wsgate version changes a handler bundle THEN the masked template does not change', () => {
    // GIVEN two installed "versions" of the bundles: v2's join bundle differs from v1's
    const v1 = path.join(work, 'v1');
    const v2 = path.join(work, 'v2');
    const current = path.join(__dirname, '..', '..', 'assets', 'handlers');
    fs.cpSync(current, v1, { recursive: true });
    fs.cpSync(current, v2, { recursive: true });
    fs.appendFileSync(path.join(v2, 'join', 'index.js'), '\n// a later release\n');
    const hashes1 = wsgateAssetHashes(v1);
    const hashes2 = wsgateAssetHashes(v2);
    expect(hashes2.join).not.toBe(hashes1.join);
    // and the template as each version would synthesize it (the real template with that version's hashes)
    const realHashes = wsgateAssetHashes();
    const asVersion = (hashes: Record<string, string>): unknown =>
      JSON.parse(Object.entries(realHashes).reduce((text, [name, hash]) => text.split(hash).join(hashes[name]), JSON.stringify(template.toJSON())));
    const t1 = asVersion(hashes1);
    const t2 = asVersion(hashes2);
    expect(t1).not.toEqual(t2);
    // WHEN each is masked with its own bundles THEN the results are equal
    expect(maskAssetHashes(t1, { assetsRoot: v1 })).toEqual(maskAssetHashes(t2, { assetsRoot: v2 }));
  });

  test("WHEN allAssets is set THEN the user's asset hash is masked too", () => {
    const text = JSON.stringify(maskAssetHashes(template, { allAssets: true }));
    expect(text.match(HASH)).toBeNull();
    expect(text).toContain(`"${ASSET_HASH_PLACEHOLDER}.zip"`);
    expect(text).toContain('[wsgate-asset:join].zip');
  });

  test('WHEN the bundle folder does not exist THEN it throws naming the folder and the fix', () => {
    expect(() => maskAssetHashes(template, { assetsRoot: path.join(work, 'nowhere') })).toThrow(/wsgate\/testing: the handler bundles are missing \(.*nowhere\); reinstall wsgate/);
  });
});

describe('wsgateSnapshotSerializer', () => {
  test('THEN jest-style printing of a Template, or of an object holding a template, shows placeholders instead of wsgate hashes', () => {
    // WHEN values are printed the way jest prints snapshots, with the serializer as a plugin
    const printedTemplate = format(template, { plugins: [wsgateSnapshotSerializer] });
    const printedNested = format({ stack: template.toJSON() }, { plugins: [wsgateSnapshotSerializer] });
    // THEN
    for (const printed of [printedTemplate, printedNested]) {
      expect(printed).toContain('"[wsgate-asset:join].zip"');
      for (const hash of Object.values(wsgateAssetHashes())) expect(printed).not.toContain(hash);
    }
    expect(printedNested).toMatch(/^Object \{\n {2}"stack": Object \{/);
  });

  test('THEN values that are not templates are left to the other printers, and the module form is the same serializer', () => {
    expect(wsgateSnapshotSerializer.test({ a: 1 })).toBe(false);
    expect(wsgateSnapshotSerializer.test('Resources')).toBe(false);
    expect(wsgateSnapshotSerializer.test(template)).toBe(true);
    expect(serializerModule).toBe(wsgateSnapshotSerializer);
  });
});
