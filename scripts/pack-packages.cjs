#!/usr/bin/env node
'use strict';
/**
 * Packs both npm packages of this repository as a publish would, without touching the working tree:
 * copies the repository's files (tracked ones, and new ones in source folders) into a staging folder,
 * runs `npm run prepack` there (the build a publish runs), then `npm pack --json` for `wsgate` and for the `@wsgate/local`
 * workspace. The staging folder borrows this repository's node_modules through a symlink.
 *
 *   node scripts/pack-packages.cjs [outDir=.wsgate/pack]     # prints the tarball paths, writes pack.json
 *
 * From code: `packPackages(outDir)` returns { root, local } with npm's pack report (files, size, unpackedSize,
 * filename) and the tarball's absolute path.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..');
/** Build outputs a clean clone does not have, even where .gitignore does not list them yet. */
const BUILD_OUTPUT = /^(dist|assets|cdk\.out[^/]*|\.wsgate)\/|^\.jsii$|\.tgz$/;

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** Folders whose new (untracked, not ignored) files are sources a commit would add; elsewhere they are tool output. */
const SOURCE_FOLDERS = /^(lib|contract|testing|cli|lambda|local|scripts|bin|web)\//;

/** The repository's files as a fresh clone of the working tree would have them (regular files only). */
function repositoryFiles() {
  const list = (args) => run('git', ['ls-files', '-z', ...args], REPO).split('\0').filter((f) => f !== '');
  const untracked = list(['--others', '--exclude-standard']).filter((f) => SOURCE_FOLDERS.test(f));
  return [...new Set([...list(['--cached']), ...untracked])].filter((f) => {
    if (BUILD_OUTPUT.test(f)) return false;
    const stat = fs.lstatSync(path.join(REPO, f), { throwIfNoEntry: false });
    return stat !== undefined && stat.isFile();
  });
}

function stageRepository() {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-pack-'));
  for (const file of repositoryFiles()) {
    const to = path.join(stage, file);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(REPO, file), to);
    fs.chmodSync(to, fs.statSync(path.join(REPO, file)).mode);
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  return stage;
}

/** npm's report for one `npm pack --json` (scripts off: the build already ran). */
function pack(stage, outDir, workspaceArgs) {
  const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', outDir, ...workspaceArgs], stage);
  const [report] = JSON.parse(out.slice(out.indexOf('[')));
  return { ...report, tarball: path.join(outDir, report.filename) };
}

function packPackages(outDir = path.join(REPO, '.wsgate', 'pack')) {
  fs.mkdirSync(outDir, { recursive: true });
  const stage = stageRepository();
  try {
    try {
      run('npm', ['run', 'prepack'], stage);
    } catch (err) {
      throw new Error(`npm run prepack failed in ${stage}:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    }
    const root = pack(stage, path.resolve(outDir), []);
    const local = pack(stage, path.resolve(outDir), ['--workspace', 'local']);
    const result = { root, local };
    fs.writeFileSync(path.join(outDir, 'pack.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

module.exports = { packPackages, REPO };

if (require.main === module) {
  const started = Date.now();
  const { root, local } = packPackages(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  for (const r of [root, local]) {
    process.stdout.write(`${r.name}@${r.version}: ${r.tarball} (${r.entryCount} files, ${r.size} bytes packed, ${r.unpackedSize} unpacked)\n`);
  }
  process.stdout.write(`packed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
