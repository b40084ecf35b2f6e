#!/usr/bin/env bash
# The whole test suite: the same .venv as run.sh plus test extras, the ONNX models, a PostgreSQL server,
# a Subsonic server (supysonic) in its own throw-away venv, then pytest. Extra arguments go to pytest.
#   ./test.sh            # everything
#   ./test.sh -m 'not integration' -x
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
source scripts/test-services.sh
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then echo "test.sh: pytest collected no tests; that is a failure" >&2; exit 1; fi
exit "$rc"
