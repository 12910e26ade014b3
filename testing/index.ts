/**
 * `wsgate/testing`: helpers for a consumer's own tests (TypeScript / JavaScript; not part of the jsii API).
 *
 * A snapshot of a stack that uses wsgate contains the asset hashes of wsgate's prebuilt handler bundles (the Lambda
 * functions' `Code.S3Key` is `<hash>.zip`). Every wsgate release that changes a handler changes those hashes. These
 * helpers replace them with stable, readable placeholders (`[wsgate-asset:join]`), so a wsgate upgrade does not
 * churn your snapshots while your own assets (and everything else) are still compared.
 *
 * ```ts
 * import { Template } from 'aws-cdk-lib/assertions';
 * import { maskAssetHashes, wsgateSnapshotSerializer } from 'wsgate/testing';
 *
 * expect(maskAssetHashes(Template.fromStack(stack))).toMatchSnapshot();
 * // or once per test file, for every template object a snapshot contains:
 * expect.addSnapshotSerializer(wsgateSnapshotSerializer);
 * ```
 */
import * as fs from 'fs';
import * as path from 'path';
import { FileSystem } from 'aws-cdk-lib';

/** Where the package's prebuilt handler bundles are (`assets/handlers/<name>/index.js`). */
const HANDLER_ASSETS_ROOT = path.join(__dirname, '..', 'assets', 'handlers');

/** The placeholder that replaces the asset hash of wsgate's bundled handler `name`. */
export function wsgateAssetPlaceholder(name: string): string {
  return `[wsgate-asset:${name}]`;
}

/** The placeholder `maskAssetHashes(template, { allAssets: true })` puts in place of any other asset hash. */
export const ASSET_HASH_PLACEHOLDER = '[asset-hash]';

/**
 * The asset hash of each of wsgate's bundled handlers (folder name → hash), computed the way `Code.fromAsset`
 * computes it (the fingerprint of the folder), with the aws-cdk-lib your app uses.
 */
export function wsgateAssetHashes(assetsRoot: string = HANDLER_ASSETS_ROOT): Record<string, string> {
  if (!fs.existsSync(assetsRoot)) {
    throw new Error(`wsgate/testing: the handler bundles are missing (${assetsRoot}); reinstall wsgate, or inside the wsgate repository run npm run build:handlers`);
  }
  const hashes: Record<string, string> = {};
  for (const name of fs.readdirSync(assetsRoot).sort()) {
    const directory = path.join(assetsRoot, name);
    if (fs.statSync(directory).isDirectory()) hashes[name] = FileSystem.fingerprint(directory);
  }
  return hashes;
}

/** Options of `maskAssetHashes`. */
export interface MaskAssetHashesOptions {
  /**
   * Also replace every other 64-hex-digit asset hash (your own assets, aws-cdk-lib's custom resource handlers)
   * with `[asset-hash]`.
   * @default false - only wsgate's handler bundles are masked
   */
  readonly allAssets?: boolean;
  /**
   * The folder of handler bundles whose hashes are masked.
   * @default - the `assets/handlers` folder of the installed wsgate package
   */
  readonly assetsRoot?: string;
}

function isTemplateLike(value: unknown): value is { toJSON(): unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/**
 * A deep copy of `template` (an `aws-cdk-lib/assertions` `Template`, or any JSON value such as
 * `Template.toJSON()` or a cloud assembly template) in which every occurrence of a wsgate handler bundle's asset hash
 * inside a string (`S3Key`, asset metadata) is replaced by `[wsgate-asset:<handler>]`.
 */
export function maskAssetHashes(template: unknown, options: MaskAssetHashesOptions = {}): any {
  const json = isTemplateLike(template) ? template.toJSON() : template;
  const replacements = Object.entries(wsgateAssetHashes(options.assetsRoot)).map(([name, hash]) => [hash, wsgateAssetPlaceholder(name)] as const);
  const maskString = (text: string): string => {
    let masked = text;
    for (const [hash, placeholder] of replacements) masked = masked.split(hash).join(placeholder);
    return options.allAssets ? masked.replace(/[0-9a-f]{64}/g, ASSET_HASH_PLACEHOLDER) : masked;
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return maskString(value);
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [maskString(k), walk(v)]));
    }
    return value;
  };
  return walk(json);
}

/** Objects this serializer has already masked (so printing them does not mask them again). */
const masked = new WeakSet<object>();

/** The shape of a jest snapshot serializer (`expect.addSnapshotSerializer`), without depending on jest's types. */
export interface SnapshotSerializer {
  test(value: unknown): boolean;
  serialize(value: unknown, config: unknown, indentation: string, depth: number, refs: unknown, printer: (...args: any[]) => string): string;
}

/**
 * A jest snapshot serializer that masks wsgate's handler asset hashes in every CloudFormation template object
 * (a value with `Resources`) and every `Template` a snapshot contains.
 * Use: `expect.addSnapshotSerializer(wsgateSnapshotSerializer)` or `snapshotSerializers: ['wsgate/testing/serializer']`.
 */
export const wsgateSnapshotSerializer: SnapshotSerializer = {
  test(value: unknown): boolean {
    if (typeof value !== 'object' || value === null || masked.has(value)) return false;
    return isTemplateLike(value) ? typeof (value as { findResources?: unknown }).findResources === 'function' : 'Resources' in value;
  },
  serialize(value, config, indentation, depth, refs, printer): string {
    const result = maskAssetHashes(value) as object;
    masked.add(result);
    return printer(result, config, indentation, depth, refs);
  },
};
