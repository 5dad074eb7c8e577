#!/usr/bin/env bash
# Runs an already-installed Qdrant server for local development and the Qdrant contract suite.
# It neither builds nor downloads anything: point QDRANT_BIN at a qdrant binary (or put one on PATH).
#
#   QDRANT_BIN=/path/to/qdrant scripts/qdrant-dev.sh [data-dir]      # default: $SRAG_DATA_DIR/qdrant
#   QDRANT_URL=http://127.0.0.1:6333 npx vitest run test/contract/qdrant.test.ts
#
# Listens on 127.0.0.1 only. QDRANT_HTTP_PORT (default 6333) picks the port; gRPC uses the next one.
# Runs in the foreground; Ctrl-C stops it.
set -euo pipefail

bin="${QDRANT_BIN:-$(command -v qdrant || true)}"
if [[ -z "$bin" || ! -x "$bin" ]]; then
  echo "qdrant-dev: set QDRANT_BIN to an installed qdrant binary (this script does not build or download one)" >&2
  exit 1
fi
dir="${1:-${SRAG_DATA_DIR:-./.srag}/qdrant}"
port="${QDRANT_HTTP_PORT:-6333}"
mkdir -p "$dir/storage" "$dir/snapshots"

echo "qdrant-dev: QDRANT_URL=http://127.0.0.1:${port} (data in ${dir})" >&2
cd "$dir"
export QDRANT__STORAGE__STORAGE_PATH="$PWD/storage"
export QDRANT__STORAGE__SNAPSHOTS_PATH="$PWD/snapshots"
export QDRANT__SERVICE__HOST=127.0.0.1
export QDRANT__SERVICE__HTTP_PORT="$port"
export QDRANT__SERVICE__GRPC_PORT="$((port + 1))"
export QDRANT__TELEMETRY_DISABLED=true
exec "$bin"
