#!/usr/bin/env bash
# Lints synthesized CloudFormation templates with cfn-lint and checkov, using wsgate's settings
# (.cfnlintrc, .checkov.yaml: every ignored rule or skipped check says why).
#
#   npm run check:templates [-- <cloud assembly dir>]     (default: cdk.out; run `cdk synth` first)
#
# Exit status: 0 when both report nothing, 1 on findings, 2 when a checker or the templates are missing.
# The checkers come from .wsgate/venv (scripts/install-template-checkers.sh) or else from PATH.
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
assembly="${1:-cdk.out}"

find_tool() {
  if [ -x "$repo/.wsgate/venv/bin/$1" ]; then echo "$repo/.wsgate/venv/bin/$1"; else command -v "$1" || true; fi
}
cfn_lint="$(find_tool cfn-lint)"
checkov="$(find_tool checkov)"
if [ -z "$cfn_lint" ] || [ -z "$checkov" ]; then
  echo "check-templates: cfn-lint and checkov are needed; install them with: bash scripts/install-template-checkers.sh" >&2
  exit 2
fi

shopt -s nullglob
templates=("$assembly"/*.template.json)
if [ ${#templates[@]} -eq 0 ]; then
  echo "check-templates: no *.template.json in '$assembly'; run 'npx cdk synth' first or pass the assembly directory." >&2
  exit 2
fi

status=0
echo "== cfn-lint (${#templates[@]} templates, config .cfnlintrc)"
"$cfn_lint" --config-file "$repo/.cfnlintrc" -- "${templates[@]}" || status=1

echo "== checkov (CloudFormation, config .checkov.yaml)"
# Offline: no guideline download, no version check. --compact: findings without code blocks.
BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=true \
  "$checkov" --config-file "$repo/.checkov.yaml" --framework cloudformation --compact --quiet \
  --file "${templates[@]}" || status=1

if [ "$status" -eq 0 ]; then echo "check-templates: no findings in ${#templates[@]} templates"; fi
exit "$status"
