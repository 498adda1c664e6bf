#!/usr/bin/env bash
# Install the benchmark's peers (issue 20) into bench/.work/peers, never into the project:
#   - go-jsonnet, the engine Tanka uses, from PyPI's `gojsonnet` package, in its own venv;
#   - cdk8s + cdk8s-plus (Node.js), with npm, in their own node_modules.
# Versions are pinned so figures are comparable between runs; bench/compare.py reports them.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=bench/.work/peers
GOJSONNET=0.22.0
CDK8S=2.70.106
CDK8S_PLUS=2.5.92   # cdk8s-plus-32: Kubernetes 1.32 API
CONSTRUCTS=10.8.1

mkdir -p "$WORK/node"
if [ ! -x "$WORK/jsonnet-venv/bin/python" ]; then
  python3 -m venv "$WORK/jsonnet-venv"
fi
"$WORK/jsonnet-venv/bin/python" -m pip install --quiet "gojsonnet==$GOJSONNET"

if command -v npm >/dev/null; then
  (cd "$WORK/node" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --silent --no-audit --no-fund \
      "cdk8s@$CDK8S" "cdk8s-plus-32@$CDK8S_PLUS" "constructs@$CONSTRUCTS")
else
  echo "npm not found: cdk8s will be left out of the comparison" >&2
fi
echo "peers installed in $WORK"
