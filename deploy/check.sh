#!/usr/bin/env bash
# make deploy-check: render the production overlay with kustomize and validate every object in it:
# core kinds with kubernetes-validate (strict: unknown fields are errors), KEDA's with KEDA's own schema.
# The validators are installed on first use under .cache/deploy-check (PyPI and npm; nothing system-wide).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
CACHE=.cache/deploy-check
K8S_VERSION=${K8S_VERSION:-1.32.0}
mkdir -p "$CACHE"
command -v kubectl >/dev/null || { echo "deploy-check needs kubectl (its kustomize renders the overlay)" >&2; exit 1; }
command -v npm >/dev/null || { echo "deploy-check needs node and npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
[ -x "$CACHE/venv/bin/kubernetes-validate" ] || {
  $PY -m venv "$CACHE/venv" && "$CACHE/venv/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==1.37.0"; }
[ -d "$CACHE/node/node_modules/@kubernetes-models/keda" ] || {
  mkdir -p "$CACHE/node" && npm install --silent --no-audit --no-fund --prefix "$CACHE/node" "@kubernetes-models/keda@2.0.0" >/dev/null; }

rendered=$CACHE/production.yaml
kubectl kustomize deploy/k8s/production > "$rendered"
echo "== rendered deploy/k8s/production: $(grep -c '^kind:' "$rendered") objects"
# Core kinds, one file per object (kubernetes-validate skips kinds it has no schema for: KEDA's are checked below).
split_dir=$(mktemp -d)
"$CACHE/venv/bin/python" - "$rendered" "$split_dir" <<'PYEOF'
import json, sys
from pathlib import Path
import yaml
docs = [d for d in yaml.safe_load_all(Path(sys.argv[1]).read_text()) if d]
for i, d in enumerate(docs):
    Path(sys.argv[2], f"{i:02d}-{d['kind']}-{d['metadata']['name']}.yaml").write_text(yaml.safe_dump(d))
Path(sys.argv[2], "all.json").write_text(json.dumps(docs))
PYEOF
core=$(ls "$split_dir"/*.yaml | grep -v -e ScaledObject -e TriggerAuthentication)
"$CACHE/venv/bin/kubernetes-validate" --strict -k "$K8S_VERSION" $core
cp deploy/validate-keda.mjs "$CACHE/node/"  # ES modules resolve packages from the script's own folder
node "$CACHE/node/validate-keda.mjs" < "$split_dir/all.json"
rm -rf "$split_dir"
echo "deploy-check: every object valid"
