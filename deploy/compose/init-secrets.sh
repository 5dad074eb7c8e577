#!/bin/sh
# First start: writes .env (from .env.example) with fresh random secrets, and the files in secrets/
# that Prometheus reads, so that both agree. Never overwrites: an existing .env or secret file is kept.
# Prints the admin API token once; it is also in .env (SRAG_API_TOKENS), readable by root only.
set -eu
cd "$(dirname "$0")"
umask 077

random_hex() {
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

if [ -e .env ]; then
  echo ".env exists: kept as it is (delete it to start over)" >&2
  for f in secrets/srag-metrics-token secrets/qdrant-api-key; do
    [ -e "$f" ] || echo "missing $f: write the matching value from .env into it" >&2
  done
else
  admin_token=$(random_hex)
  metrics_token=$(random_hex)
  qdrant_key=$(random_hex)
  sed \
    -e "s|^SRAG_API_TOKENS=.*|SRAG_API_TOKENS=${admin_token}=admin::admin,${metrics_token}=prometheus::query|" \
    -e "s|^POSTGRES_PASSWORD=.*|POSTGRES_PASSWORD=$(random_hex)|" \
    -e "s|^QDRANT_API_KEY=.*|QDRANT_API_KEY=${qdrant_key}|" \
    -e "s|^GRAFANA_ADMIN_PASSWORD=.*|GRAFANA_ADMIN_PASSWORD=$(random_hex)|" \
    .env.example > .env
  mkdir -p secrets
  [ -e secrets/srag-metrics-token ] || printf '%s' "$metrics_token" > secrets/srag-metrics-token
  [ -e secrets/qdrant-api-key ] || printf '%s' "$qdrant_key" > secrets/qdrant-api-key
  # Prometheus runs as nobody inside its container and reads these through bind mounts; the
  # directory stays private to root on the host.
  chmod 0700 secrets
  chmod 0644 secrets/srag-metrics-token secrets/qdrant-api-key
  echo "wrote .env and secrets/ (admin API token, user 'admin', scope admin):"
  echo "  $admin_token"
  echo "clients send it as: Authorization: Bearer <token>"
fi
