#!/usr/bin/env bash
# The README's test command runs this (through scripts/dev.sh, which has already put
# Node 24 and node_modules in place). Each step prints its own result; the last line
# sums them up as "N passed, N failed".
source "$(dirname "$0")/env.sh"
cd "$ROOT"
set +e
mkdir -p artifacts
passed=0; failed=0; failures=()
step() {
  local name="$1"; shift
  local t0=$SECONDS
  printf '\n\033[1m==> %s\033[0m\n' "$name"
  if "$@"; then passed=$((passed + 1)); printf '\033[32m<== %s passed (%ss)\033[0m\n' "$name" $((SECONDS - t0))
  else failed=$((failed + 1)); failures+=("$name"); printf '\033[31m<== %s FAILED (%ss)\033[0m\n' "$name" $((SECONDS - t0)); fi
}
jest() { node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js "$@"; }

step "lint" eslint .
step "typecheck" tsc --noEmit -p tsconfig.json
step "unit tests" jest --selectProjects unit
step "infra tests (cdk synth, assertions, cdk-nag, cfn-lint)" jest --selectProjects infra
step "local stack (Kafka, Redis, moto)" bash scripts/stack.sh up
step "integration tests (real Kafka, Redis, SQLite, moto)" jest --selectProjects integration --runInBand
if [ -f scripts/e2e.sh ]; then step "end to end: verify, browser, chaos" bash scripts/e2e.sh; fi

printf '\n'
for f in "${failures[@]}"; do printf '\033[31mfailed: %s\033[0m\n' "$f"; done
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
