#!/usr/bin/env node
'use strict';
/**
 * Consumer test: a fresh TypeScript CDK app installs the packed `wsgate` tarball with a given aws-cdk-lib, as a user
 * would (peer ranges enforced: no --legacy-peer-deps), takes the README's construct snippet as its app and the README's
 * snapshot snippet as its jest test, and proves:
 *   install            npm accepts the tarball with that aws-cdk-lib and constructs
 *   typecheck          tsc type-checks the app against the shipped .d.ts files
 *   synth              the app synthesizes as `cdk synth` runs it (CDK_OUTDIR set; the App synthesizes on exit)
 *   snapshot           the README's snapshot test passes and writes a snapshot with wsgate's placeholders
 *   snapshot-upgrade   after a handler bundle changes (a new wsgate release), the same snapshot still matches (--ci)
 *   launcher           `npx wsgate local` without @wsgate/local prints the install command and exits 1
 * and with --full also:
 *   runtime            a handler importing `wsgate/runtime` type-checks, and the CommonJS and ESM entries load
 *   emulator           with the @wsgate/local tarball installed, `npx wsgate local cdk.out` serves the app's stage
 *
 *   node scripts/consumer-test.cjs --cdk 2.269.0 --constructs 10.0.0 --label min [--full] [--tarballs DIR]
 *
 * Writes .wsgate/results/consumer-<label>.json ({ suite, passed, failed, checks }) for .ci/run's result line.
 * Exit status 1 when a check failed.
 */
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..');
const ROOT_PACKAGE = require(path.join(REPO, 'package.json'));

function parseArgs(argv) {
  const args = { cdk: undefined, constructs: '^10.0.0', label: undefined, full: false, tarballs: undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--full') args.full = true;
    else if (a === '--keep') args.keep = true;
    else if (['--cdk', '--constructs', '--label', '--tarballs'].includes(a)) args[a.slice(2)] = argv[++i];
    else throw new Error(`consumer-test: unknown argument ${a}`);
  }
  if (!args.cdk) throw new Error('consumer-test: --cdk VERSION is required (e.g. 2.269.0, or 2 for the newest 2.x)');
  args.label = args.label ?? args.cdk;
  return args;
}

/** The code block between `<!-- NAME:start -->` and `<!-- NAME:end -->` in the README, else the fallback block. */
function readmeBlock(readme, marker, fallbackHeading) {
  const start = readme.indexOf(`<!-- ${marker}:start -->`);
  let region;
  if (start >= 0) {
    const end = readme.indexOf(`<!-- ${marker}:end -->`, start);
    if (end < 0) throw new Error(`README: <!-- ${marker}:start --> has no end marker`);
    region = readme.slice(start, end);
  } else {
    const heading = readme.indexOf(fallbackHeading);
    if (heading < 0) throw new Error(`README: neither the ${marker} markers nor the heading "${fallbackHeading}" exist`);
    region = readme.slice(heading);
  }
  const m = /```(?:ts|typescript)\n([\s\S]*?)```/.exec(region);
  if (!m) throw new Error(`README: no TypeScript block for ${marker}`);
  return m[1];
}

function sh(cmd, args, cwd, extraEnv = {}) {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...extraEnv },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** A failed command's output, shortened for the report. */
function failure(err) {
  const text = `${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`.trim();
  return text.length > 4000 ? `${text.slice(0, 1500)}\n...\n${text.slice(-2500)}` : text;
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      })
      .on('error', reject);
  });
}

/** Starts `npx wsgate local cdk.out --port 0`, waits for its stage line, fetches a dev token, stops it with SIGINT. */
function runEmulator(app) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(app, 'node_modules', '.bin', 'wsgate'), ['local', 'cdk.out', '--port', '0'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGINT'); // as Ctrl-C
      const hard = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => {
        clearTimeout(hard);
        err ? reject(err) : resolve(value);
      });
      if (child.exitCode !== null) err ? reject(err) : resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`the emulator did not print its stage within 120 s:\n${out}`)), 120_000);
    const onData = (chunk) => {
      out += chunk;
      const stage = /ws:\/\/127\.0\.0\.1:(\d+)\/prod/.exec(out);
      if (stage && out.includes('Press Ctrl-C')) {
        httpGet(`http://127.0.0.1:${stage[1]}/_wsgate/token?user=alice`).then(
          (res) => (res.status === 200 && /"token"/.test(res.body) ? finish(undefined, stage[0]) : finish(new Error(`token endpoint answered ${res.status}: ${res.body}`))),
          (err) => finish(err),
        );
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => finish(new Error(`the emulator exited with ${code} before serving:\n${out}`)));
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const checks = [];
  const check = async (name, fn) => {
    const t0 = Date.now();
    try {
      const detail = await fn();
      checks.push({ name, ok: true, ms: Date.now() - t0, ...(detail ? { detail } : {}) });
      process.stdout.write(`  ok    ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${detail ? ` ${detail}` : ''}\n`);
      return true;
    } catch (err) {
      checks.push({ name, ok: false, ms: Date.now() - t0, error: failure(err) });
      process.stdout.write(`  FAIL  ${name}\n${failure(err).replace(/^/gm, '        ')}\n`);
      return false;
    }
  };

  let tarballs = args.tarballs;
  if (!tarballs) {
    tarballs = path.join(REPO, '.wsgate', 'pack');
    process.stdout.write('packing (scripts/pack-packages.cjs)...\n');
    require('./pack-packages.cjs').packPackages(tarballs);
  }
  const pack = JSON.parse(fs.readFileSync(path.join(tarballs, 'pack.json'), 'utf8'));
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const appSource = readmeBlock(readme, 'construct-snippet', '## Using the constructs in your own app');
  const testSource = readmeBlock(readme, 'snapshot-snippet', '### Snapshot tests that survive a wsgate upgrade');

  const app = fs.mkdtempSync(path.join(os.tmpdir(), `wsgate-consumer-${args.label}-`));
  process.stdout.write(`consumer app (${args.label}: aws-cdk-lib@${args.cdk}, constructs@${args.constructs}) in ${app}\n`);
  fs.writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ name: 'consumer-app', version: '1.0.0', private: true }, null, 2)}\n`);
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    `${JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, esModuleInterop: true, skipLibCheck: true, outDir: 'build', types: ['node', 'jest'] }, include: ['bin', 'test'] }, null, 2)}\n`,
  );
  fs.writeFileSync(
    path.join(app, 'jest.config.js'),
    "module.exports = { testEnvironment: 'node', roots: ['<rootDir>/test'], transform: { '^.+\\\\.ts$': ['ts-jest', { isolatedModules: true }] } };\n",
  );
  fs.mkdirSync(path.join(app, 'bin'));
  fs.mkdirSync(path.join(app, 'test'));
  fs.writeFileSync(path.join(app, 'bin', 'app.ts'), appSource);
  fs.writeFileSync(path.join(app, 'test', 'stack.test.ts'), testSource);

  const dev = ROOT_PACKAGE.devDependencies;
  const toolchain = [`typescript@${dev.typescript}`, `jest@${dev.jest}`, `ts-jest@${dev['ts-jest']}`, `@types/jest@${dev['@types/jest']}`, `@types/node@${dev['@types/node']}`];
  const sdk = Object.keys(dev).filter((d) => ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-apigatewaymanagementapi', '@aws-sdk/client-sqs'].includes(d)).map((d) => `${d}@${dev[d]}`);
  const npmInstall = ['install', '--no-audit', '--no-fund', '--prefer-offline'];

  const installed = await check('install', () => {
    sh('npm', [...npmInstall, pack.root.tarball, `aws-cdk-lib@${args.cdk}`, `constructs@${args.constructs}`, ...toolchain, ...(args.full ? sdk : [])], app);
    const cdk = require(path.join(app, 'node_modules', 'aws-cdk-lib', 'package.json')).version;
    const constructs = require(path.join(app, 'node_modules', 'constructs', 'package.json')).version;
    return `aws-cdk-lib ${cdk}, constructs ${constructs}`;
  });
  if (installed) {
    // tsc type-checks the app and its test against the shipped .d.ts files and emits the app into build/
    const typed = await check('typecheck', () => void sh(path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.'], app));
    await check('synth', () => {
      if (!typed) throw new Error('not run: the app did not compile');
      sh(process.execPath, [path.join('build', 'bin', 'app.js')], app, { CDK_OUTDIR: path.join(app, 'cdk.out') });
      const manifest = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', 'manifest.json'), 'utf8'));
      const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
      if (stacks.length === 0) throw new Error('cdk.out has no stack');
      const apis = stacks.flatMap(([, a]) => {
        const template = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', a.properties.templateFile), 'utf8'));
        return Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Api' && r.Properties.ProtocolType === 'WEBSOCKET');
      });
      if (apis.length === 0) throw new Error('no WEBSOCKET API in the synthesized templates');
      return `${stacks.length} stack(s), ${apis.length} WebSocket API(s)`;
    });
    const jest = path.join(app, 'node_modules', '.bin', 'jest');
    const snapshotted = await check('snapshot', () => {
      sh(jest, ['--ci=false'], app);
      const dir = path.join(app, 'test', '__snapshots__');
      const snap = fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]), 'utf8');
      if (!snap.includes('[wsgate-asset:')) throw new Error('the snapshot has no [wsgate-asset:...] placeholder');
      const hashes = snap.match(/[0-9a-f]{64}/g) ?? [];
      const bundled = fs.readdirSync(path.join(app, 'node_modules', 'wsgate', 'assets', 'handlers'));
      return `${bundled.length} handler bundles masked; ${hashes.length} other hash(es) kept`;
    });
    if (snapshotted) {
      await check('snapshot-upgrade', () => {
        for (const name of fs.readdirSync(path.join(app, 'node_modules', 'wsgate', 'assets', 'handlers'))) {
          fs.appendFileSync(path.join(app, 'node_modules', 'wsgate', 'assets', 'handlers', name, 'index.js'), '\n// a later wsgate release\n');
        }
        sh(jest, ['--ci'], app);
      });
    }
    await check('launcher', () => {
      try {
        sh(path.join(app, 'node_modules', '.bin', 'wsgate'), ['local', 'cdk.out'], app);
      } catch (err) {
        if (err.status === 1 && /npm install -D @wsgate\/local/.test(err.stderr)) return undefined;
        throw err;
      }
      throw new Error('wsgate local exited with 0 without @wsgate/local');
    });
    if (args.full) {
      await check('runtime', () => {
        fs.mkdirSync(path.join(app, 'handlers'), { recursive: true });
        fs.writeFileSync(
          path.join(app, 'handlers', 'connect.ts'),
          [
            "import { createGatewayClient, readIdentity, WsgateError } from 'wsgate/runtime';",
            'const gateway = createGatewayClient();',
            'export async function handler(event: any): Promise<{ statusCode: number }> {',
            '  const who = readIdentity(event);',
            '  try {',
            '    await gateway.recordConnection(event, { userId: who.principalId });',
            '  } catch (err) {',
            '    if (err instanceof WsgateError) return { statusCode: 400 };',
            '    throw err;',
            '  }',
            '  return { statusCode: 200 };',
            '}',
            '',
          ].join('\n'),
        );
        const tscFlags = ['--noEmit', '--strict', '--esModuleInterop', '--skipLibCheck', '--module', 'commonjs', '--moduleResolution', 'node', '--target', 'ES2022', '--types', 'node'];
        sh(path.join(app, 'node_modules', '.bin', 'tsc'), [...tscFlags, path.join('handlers', 'connect.ts')], app);
        const probe =
          "const c = require('wsgate/runtime'); import('wsgate/runtime').then((m) => { for (const k of ['createGatewayClient','readIdentity','WsgateError']) { if (typeof c[k] !== 'function' || typeof m[k] !== 'function') throw new Error(k + ' missing'); } console.log('ok'); });";
        const out = sh(process.execPath, ['-e', probe], app);
        if (!out.includes('ok')) throw new Error(out);
      });
      await check('emulator', async () => {
        sh('npm', [...npmInstall, '--save-dev', pack.local.tarball], app);
        return runEmulator(app);
      });
    }
  }

  const passed = checks.filter((c) => c.ok).length;
  const failed = checks.length - passed;
  const result = { suite: `consumer ${args.label} (aws-cdk-lib@${args.cdk})`, passed, failed, seconds: Math.round((Date.now() - started) / 1000), app, checks };
  const resultsDir = path.join(REPO, '.wsgate', 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, `consumer-${args.label}.json`), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`consumer ${args.label}: ${passed} passed, ${failed} failed in ${result.seconds} s\n`);
  if (!args.keep && failed === 0) fs.rmSync(app, { recursive: true, force: true });
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`consumer-test: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
