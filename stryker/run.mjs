// `npm run mutate [-- module ...]`: runs StrykerJS once per module (stryker/modules.mjs), each against its own
// tests, then writes reports/mutation/summary.md from the JSON reports (score per module, every survivor).
// `npm run mutate -- --summary` only rewrites the summary from the reports already there.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { MODULES } from './modules.mjs';

const args = process.argv.slice(2);
const summaryOnly = args.includes('--summary');
const wanted = args.filter((a) => !a.startsWith('--'));
for (const name of wanted) if (!MODULES[name]) throw new Error(`unknown module "${name}" (one of ${Object.keys(MODULES).join(', ')})`);
const names = wanted.length > 0 ? wanted : Object.keys(MODULES);

mkdirSync('reports/mutation', { recursive: true });
if (!summaryOnly) {
  for (const name of names) {
    const started = Date.now();
    const run = spawnSync('npx', ['stryker', 'run', 'stryker/stryker.config.mjs'], {
      stdio: 'inherit',
      env: { ...process.env, WSGATE_MUTATE_MODULE: name },
    });
    console.log(`mutate ${name}: exit ${run.status} after ${Math.round((Date.now() - started) / 1000)} s`);
  }
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const lines = ['# Mutation testing summary', '', 'Written by `npm run mutate` (stryker/run.mjs) from reports/mutation/<module>.json.', ''];
lines.push(
  'A survivor of the full run that a later re-check of its lines (`<module>-recheck.json`, see docs/mutation.md) killed is',
  'counted in "after re-check" and marked in the list below.',
  '',
  '| module | files | mutants | killed | timeout | survived | no coverage | ignored (static) | score | after re-check |',
  '|---|---|---|---|---|---|---|---|---|---|',
);
/** `file:start-end mutator replacement` of every mutant the re-check report of `name` detected. */
function recheckKills(name) {
  const file = `reports/mutation/${name}-recheck.json`;
  if (!existsSync(file)) return new Set();
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const out = new Set();
  for (const [path, f] of Object.entries(report.files)) {
    for (const m of f.mutants) if (DETECTED.has(m.status)) out.add(`${path}:${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column} ${m.mutatorName} ${m.replacement}`);
  }
  return out;
}
const survivors = [];
for (const name of Object.keys(MODULES)) {
  const file = `reports/mutation/${name}.json`;
  if (!existsSync(file)) {
    lines.push(`| ${name} | ${MODULES[name].mutate.join(', ')} | not run | | | | | | | |`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const count = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Ignored: 0, other: 0 };
  const rechecked = recheckKills(name);
  let killedLater = 0;
  for (const [path, f] of Object.entries(report.files)) {
    for (const m of f.mutants) {
      if (m.status in count) count[m.status]++;
      else count.other++;
      if (UNDETECTED.has(m.status)) {
        const src = f.source.split('\n')[m.location.start.line - 1] ?? '';
        const later = rechecked.has(`${path}:${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column} ${m.mutatorName} ${m.replacement}`);
        if (later) killedLater++;
        survivors.push(`- ${name} ${path}:${m.location.start.line}:${m.location.start.column} ${m.status}${later ? ' (killed in the re-check)' : ''} ${m.mutatorName}` +
          ` \`${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80)}\` in \`${src.trim().slice(0, 100)}\``);
      }
    }
  }
  const detected = count.Killed + count.Timeout;
  const valid = detected + count.Survived + count.NoCoverage;
  const score = valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(1)} %`;
  const after = valid === 0 || killedLater === 0 ? '' : `${((100 * (detected + killedLater)) / valid).toFixed(1)} %`;
  lines.push(`| ${name} | ${MODULES[name].mutate.join(', ')} | ${valid} | ${count.Killed} | ${count.Timeout} | ${count.Survived} | ${count.NoCoverage} | ${count.Ignored} | ${score} | ${after} |`);
}
lines.push('', '## Surviving mutants', '', ...(survivors.length ? survivors : ['none']), '');
writeFileSync('reports/mutation/summary.md', lines.join('\n'));
console.log(lines.join('\n'));
