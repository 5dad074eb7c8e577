#!/usr/bin/env bash
# Breaks each security guarantee on purpose, one at a time, and shows which tests catch it.
# Every mutation must make at least one test fail; the tree is restored after each (and on exit).
# Usage: bash scripts/mutation-check.sh   (needs the setup of `npm test`; takes a few minutes)
set -uo pipefail
cd "$(dirname "$0")/.."
TESTS=(test/unit/acl-property.test.ts test/unit/http-query.test.ts test/unit/safe-paths.test.ts test/integration/security.test.ts)
restore() { git checkout -q -- src; }
trap restore EXIT

mutate() { # name file perl-substitution
  local name=$1 file=$2 expr=$3
  perl -0pi -e "$expr" "$file"
  if git diff --quiet -- "$file"; then echo "MUTATION DID NOT APPLY: $name"; restore; return 1; fi
  local out; out=$(npx vitest run "${TESTS[@]}" 2>&1)
  local failed; failed=$(printf '%s\n' "$out" | grep -E '^\s+×' | sed -E 's/^\s+× //; s/ [0-9]+ms$//' | head -5)
  if [ -n "$failed" ]; then printf 'CAUGHT   %s\n%s\n' "$name" "$(printf '%s\n' "$failed" | sed 's/^/           /')"
  else printf 'MISSED   %s\n' "$name"; fi
  restore
}

mutate "ACL dropped at ingest (acl: [] instead of the job's)" src/ingest/prepare.ts 's/          acl,\n          externalId/          acl: [],\n          externalId/'
mutate "ACL change on re-ingest ignored" src/ingest/rights.ts 's/if \(!sameAcl\(existing\.acl, acl\)/if (false \&\& !sameAcl(existing.acl, acl)/'
mutate "/v1/documents ignores the caller's groups" src/http/document-routes.ts "s/const documents = await listDocuments\(deps\.index, await deps\.collection\(\), principalOf\(res\)\)/const documents = await listDocuments(deps.index, await deps.collection(), { ...principalOf(res), unrestricted: true })/"
mutate "/v1/search ignores the caller's groups" src/http/app.ts 's/deps\.search\.search\(body\.query, body\.k, principal\)/deps.search.search(body.query, body.k, { ...principal, unrestricted: true })/'
mutate "path-root check removed" src/http/ingest-routes.ts "s/resolveUnderRoots\(paths, deps\.pathRoots,/resolveUnderRoots(paths, ['\/'],/"
mutate "raw question written into the audit record" src/http/query-run.ts 's/note\.questionHmac = deps\.audit\.hashQuestion\(input\.question\)/note.questionHmac = input.question/'
