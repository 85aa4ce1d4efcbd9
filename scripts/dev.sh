#!/usr/bin/env bash
# Entry point behind the npm scripts. Usage: scripts/dev.sh <command> [args]
#   start        install what is missing, start the local stack and the pipeline
#   test         install what is missing, start the local stack, run every test
#   stack-up | stack-down | stack-status
#   run FILE.ts [args]   run a TypeScript entry point on Node 24
#   exec CMD [args]      run a command with Node 24 and node_modules/.bin on PATH
#   jest [args]          run jest (ESM) with the given arguments
source "$(dirname "$0")/env.sh"
cd "$ROOT"
cmd="${1:-}"; shift || true
case "$cmd" in
  start)        bash scripts/stack.sh up; exec node --import tsx local/main.ts "$@" ;;
  test)         exec bash scripts/test.sh "$@" ;;
  stack-up)     exec bash scripts/stack.sh up ;;
  stack-down)   exec bash scripts/stack.sh down ;;
  stack-status) exec bash scripts/stack.sh status ;;
  run)          file="$1"; shift; exec node --import tsx "$file" "$@" ;;
  exec)         exec "$@" ;;
  jest)         exec node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js "$@" ;;
  *) echo "usage: scripts/dev.sh start|test|stack-up|stack-down|stack-status|run FILE|exec CMD|jest ARGS" >&2; exit 2 ;;
esac
