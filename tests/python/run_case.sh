#!/usr/bin/env bash
# One case of test_ar1.py in one of python.build_wheel's venvs; Skipped (77) where that venv
# is not there (python.build_wheel skipped or failed: its output says why).
#
#   run_case.sh VENV CASE
set -euo pipefail
venv="$1"
if [[ ! -x $venv/bin/python ]]; then
  echo "SKIP: no venv $venv: python.build_wheel did not make it (see its output)"
  exit 77
fi
cd "$(dirname "${BASH_SOURCE[0]}")"
exec "$venv/bin/python" run_case.py "$2"
