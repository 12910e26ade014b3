#!/usr/bin/env node
'use strict';
/**
 * The `wsgate` command of the `wsgate` package. The emulator behind `wsgate local` lives in its own package,
 * @wsgate/local, so that construct users do not install its dependencies. This launcher runs that package's CLI
 * with the same arguments when it is installed (next to the app, or next to wsgate), and otherwise says how to
 * install it and exits with status 1. The CLI runs in this process (its exported main), so signals reach it directly.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const EMULATOR_PACKAGE = '@wsgate/local';

/** Absolute path of @wsgate/local's CLI script, or undefined when the package cannot be found. */
function findEmulatorCli(searchFrom) {
  let manifestPath;
  try {
    manifestPath = require.resolve(`${EMULATOR_PACKAGE}/package.json`, { paths: searchFrom });
  } catch {
    return undefined;
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin && manifest.bin['wsgate-local'];
  return path.resolve(path.dirname(manifestPath), bin || 'cli.js');
}

function installHint() {
  return [
    `wsgate: the emulator (wsgate local) is in the separate package ${EMULATOR_PACKAGE}, which is not installed.`,
    'Install it next to your CDK app:',
    '',
    `  npm install -D ${EMULATOR_PACKAGE}`,
    '',
    'then run: npx wsgate local cdk.out',
  ].join('\n');
}

function main(argv) {
  const cli = findEmulatorCli([process.cwd(), __dirname]);
  if (cli === undefined) {
    process.stderr.write(`${installHint()}\n`);
    return process.exit(1);
  }
  if (!fs.existsSync(cli)) {
    process.stderr.write(`wsgate: ${EMULATOR_PACKAGE} is installed but ${cli} is missing (inside the wsgate repository: npm run build).\n`);
    return process.exit(1);
  }
  // In-process when the CLI exports main(argv) (the emulator then handles Ctrl-C and SIGTERM itself);
  // otherwise as a child process with the same arguments.
  const cliModule = require(cli);
  if (typeof cliModule.main === 'function') {
    Promise.resolve(cliModule.main(argv)).then(
      (code) => process.exit(typeof code === 'number' ? code : 0),
      (err) => {
        process.stderr.write(`wsgate: ${(err && err.stack) || err}\n`);
        process.exit(1);
      },
    );
    return undefined;
  }
  const child = spawn(process.execPath, [cli, ...argv], { stdio: 'inherit' });
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGINT', () => undefined); // Ctrl-C reaches the child through the process group
  process.on('SIGTERM', () => forward('SIGTERM'));
  child.on('error', (err) => {
    process.stderr.write(`wsgate: could not start ${cli}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return undefined;
}

module.exports = { findEmulatorCli, installHint };

if (require.main === module) main(process.argv.slice(2));
