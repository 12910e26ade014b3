import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** Repository root, where `.cfnlintrc`, `.checkov.yaml` and `.wsgate/venv` live. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const VENV_BIN = path.join(REPO_ROOT, '.wsgate', 'venv', 'bin');
export const CFN_LINT = path.join(VENV_BIN, 'cfn-lint');
export const CHECKOV = path.join(VENV_BIN, 'checkov');

/** The checker executables that are not installed (scripts/install-template-checkers.sh installs them). */
export function missingCheckers(): string[] {
  return [CFN_LINT, CHECKOV].filter((file) => !fs.existsSync(file));
}

/** One cfn-lint finding, as its JSON output reports it. */
export interface CfnLintFinding {
  readonly Level: string;
  readonly Rule: { readonly Id: string };
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Start: { readonly LineNumber: number }; readonly Path?: Array<string | number> };
}

/** One checkov check result (failed or passed). */
export interface CheckovResult {
  readonly check_id: string;
  readonly check_name: string;
  readonly resource: string;
  readonly file_abs_path: string;
}

/** What checkov reports for the CloudFormation framework. */
export interface CheckovReport {
  readonly failed: CheckovResult[];
  readonly passed: CheckovResult[];
  readonly parsingErrors: string[];
}

/** Keeps checkov offline: no guideline download, no PyPI version check. */
const CHECKOV_OFFLINE_ENV = { BC_SKIP_MAPPING: 'TRUE', CKV_SKIP_PACKAGE_UPDATE_CHECK: 'true' };

/** Runs cfn-lint with the repository's `.cfnlintrc` on the templates; resolves to every finding. */
export async function runCfnLint(templates: string[]): Promise<CfnLintFinding[]> {
  const args = ['--config-file', path.join(REPO_ROOT, '.cfnlintrc'), '--format', 'json', '--', ...templates];
  // cfn-lint exits non-zero when it finds something; the JSON on stdout is the answer either way.
  const { stdout, stderr } = await run(CFN_LINT, args, REPO_ROOT);
  if (stdout.trim() === '') throw new Error(`cfn-lint printed no report. stderr:\n${stderr}`);
  return JSON.parse(stdout) as CfnLintFinding[];
}

/**
 * Runs checkov (CloudFormation) on a directory of templates: with the repository's `.checkov.yaml`,
 * or, given `onlyChecks`, without it and with just those checks (to see what a skip hides).
 */
export async function runCheckov(directory: string, onlyChecks?: string[]): Promise<CheckovReport> {
  const selection = onlyChecks
    ? ['--check', onlyChecks.join(','), '--skip-download']
    : ['--config-file', path.join(REPO_ROOT, '.checkov.yaml')];
  const args = [...selection, '--framework', 'cloudformation', '--directory', directory, '--output', 'json'];
  // checkov also reads `.checkov.yaml` from its working directory: run it elsewhere to do without.
  const cwd = onlyChecks ? directory : REPO_ROOT;
  const { stdout, stderr } = await run(CHECKOV, args, cwd, CHECKOV_OFFLINE_ENV);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error(`checkov printed no JSON report. stdout:\n${stdout.slice(0, 2000)}\nstderr (end):\n${stderr.slice(-2000)}`);
  }
  // A single framework gives one report object; an empty scan gives a summary without `results`.
  const reports = (Array.isArray(parsed) ? parsed : [parsed]) as Array<{
    check_type?: string;
    results?: { failed_checks: CheckovResult[]; passed_checks: CheckovResult[]; parsing_errors: string[] };
  }>;
  const report = reports.find((candidate) => candidate.check_type === 'cloudformation');
  if (!report?.results) throw new Error(`checkov found no CloudFormation template in ${directory}.`);
  return {
    failed: report.results.failed_checks,
    passed: report.results.passed_checks,
    parsingErrors: report.results.parsing_errors,
  };
}

/** The check ids `.checkov.yaml` skips, each with the reason written in the comment above it. */
export function checkovSkips(): Array<{ id: string; reason: string }> {
  const lines = fs.readFileSync(path.join(REPO_ROOT, '.checkov.yaml'), 'utf8').split('\n');
  const start = lines.findIndex((line) => /^skip-check:/.test(line));
  if (start < 0) return [];
  const skips: Array<{ id: string; reason: string }> = [];
  let comment: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const commentMatch = /^\s+#\s?(.*)$/.exec(line);
    const itemMatch = /^\s+-\s+(\S+)/.exec(line);
    if (commentMatch) comment.push(commentMatch[1]);
    else if (itemMatch) {
      skips.push({ id: itemMatch[1], reason: comment.join(' ').trim() });
      comment = [];
    }
  }
  return skips;
}

function run(
  file: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        // Exit codes mean "found something" for both tools; only a failure to start is an error here.
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ stdout, stderr });
      },
    );
  });
}
