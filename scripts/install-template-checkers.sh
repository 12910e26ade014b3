#!/usr/bin/env bash
# Installs cfn-lint and checkov (versions pinned in .ci/requirements.txt) into .wsgate/venv,
# where test/checks/template-checks.test.ts and `npm run check:templates` look for them.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.wsgate/venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
want=$(sort .ci/requirements.txt | tr -d '\r')
have=$("$venv/bin/pip" freeze 2>/dev/null | grep -iE '^(cfn-lint|checkov)==' | sort || true)
if [ "$want" != "$have" ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r .ci/requirements.txt
fi
"$venv/bin/cfn-lint" --version
echo "checkov $("$venv/bin/checkov" --version)"
