#!/usr/bin/env bash
# The whole test suite: the same .venv as run.sh plus test extras, the ONNX models, a PostgreSQL server,
# a Subsonic server (supysonic) in its own throw-away venv, then pytest. Extra arguments go to pytest.
# pytest runs in AUDIOMUSE_TEST_WORKERS processes (default 2; 0 runs it in this one), each test module whole
# in one of them, in the order tests/conftest.py gives: about a third of the suite waits on other
# processes (servers, containers, builds), and a second worker fills that time.
#   ./test.sh            # everything
#   ./test.sh -m 'not integration' -x
#   AUDIOMUSE_TEST_WORKERS=0 ./test.sh tests/store
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
source scripts/test-services.sh
set +e
.venv/bin/python -m pytest -n "${AUDIOMUSE_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then echo "test.sh: pytest collected no tests; that is a failure" >&2; exit 1; fi
exit "$rc"
