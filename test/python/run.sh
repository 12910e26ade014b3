#!/usr/bin/env bash
# Python consumer test: a virtualenv (.wsgate/pyvenv) with aws-cdk-lib and constructs from PyPI
# (test/python/requirements.txt) and the wheel `npm run package:python` built (dist/python/wsgate-*.whl);
# then pytest runs test/python (bin/chat.py synthesizes the same template as bin/chat.ts).
# Writes .wsgate/results/python.json ({passed, failed}) for .ci/run's result line.
#
#   npm run build && npm run package:python && bash test/python/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
results=.wsgate/results
mkdir -p "$results"
fail() { echo "python consumer test: $*" >&2; echo '{"suite":"python consumer","passed":0,"failed":1}' > "$results/python.json"; exit 1; }

wheel=$(ls -t dist/python/wsgate-*.whl 2>/dev/null | head -1 || true)
[ -n "$wheel" ] || fail "no wheel in dist/python (run: npm run build && npm run package:python)"

venv=.wsgate/pyvenv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || fail "python3 -m venv failed"
fi
"$venv/bin/pip" install -q -r test/python/requirements.txt || fail "pip install of test/python/requirements.txt failed"
# The wheel replaces any earlier build; its own requirements (aws-cdk-lib and constructs from the peer range,
# jsii, publication) must be met by the venv: `pip check` fails on a peer range PyPI's versions do not satisfy.
"$venv/bin/pip" install -q --force-reinstall --no-deps "$wheel" || fail "pip install of $wheel failed"
"$venv/bin/pip" install -q "$wheel" || fail "the wheel's requirements cannot be installed from PyPI"
"$venv/bin/pip" check || fail "pip check: the venv's requirements conflict"

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-20}"
rm -f "$results/python.json"
"$venv/bin/python" -m pytest -p no:cacheprovider -q test/python
