#!/bin/sh
# One-shot: registers srag's Temporal namespace if it does not exist yet.
set -eu
: "${TEMPORAL_ADDRESS:?}"
NAMESPACE=${SRAG_NAMESPACE:-default}
RETENTION=${SRAG_NAMESPACE_RETENTION:-30d}

attempt=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "Temporal at $TEMPORAL_ADDRESS is not healthy" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --namespace "$NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --address "$TEMPORAL_ADDRESS"
  echo "namespace $NAMESPACE created"
fi
