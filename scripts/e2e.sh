#!/usr/bin/env bash
# End-to-end step of the test command: verify, browser tests and a CI-sized chaos run.
source "$(dirname "$0")/env.sh"
cd "$ROOT"
exec node --import tsx test/e2e/run.ts "$@"
