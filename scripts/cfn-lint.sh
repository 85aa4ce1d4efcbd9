#!/usr/bin/env bash
# Lints CloudFormation templates with cfn-lint from PyPI, installed on first use into a
# project-local virtualenv (.local/venv-cfnlint), so no global install is needed.
# Usage: scripts/cfn-lint.sh [cfn-lint options] TEMPLATE...
# Exit status is cfn-lint's: 0 clean, bit 2 errors, bit 4 warnings, bit 8 informational.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CFN_LINT_VENV:-$ROOT/.local/venv-cfnlint}"
# Pinned so a new rule release cannot turn a green build red on its own.
CFN_LINT_VERSION="${CFN_LINT_VERSION:-1.58.0}"

if [ ! -x "$VENV/bin/cfn-lint" ] || [ "$("$VENV/bin/cfn-lint" --version 2>/dev/null)" != "cfn-lint $CFN_LINT_VERSION" ]; then
  command -v python3 >/dev/null || { echo "cfn-lint.sh: python3 is required (apt-get install python3 python3-venv)" >&2; exit 127; }
  echo "[cfn-lint] installing cfn-lint $CFN_LINT_VERSION into ${VENV#"$ROOT"/}" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION" >&2
fi
exec "$VENV/bin/cfn-lint" "$@"
