# Sourced by test.sh: makes the services the integration tests need available and exports where they are.
#  - PostgreSQL: use AUDIOMUSE_TEST_POSTGRES_URL if set, else 127.0.0.1:5432; start an installed cluster if it
#    is down; install it with apt-get when running as root and it is missing; otherwise the tests marked
#    `postgres` are skipped, loudly.
#  - supysonic (a real Subsonic-API server) in .cache/supysonic-venv, for the Subsonic provider tests.
#  - chromium (Debian's, headless) for the UI tests; without it they are skipped, loudly.
#  - Docker (engine, debootstrap, compose CLI) for the image tests; without it they are skipped, loudly.

pg_url=${AUDIOMUSE_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
pg_up() { .venv/bin/python - "$pg_url" <<'PY' >/dev/null 2>&1
import sys, psycopg2
psycopg2.connect(sys.argv[1], connect_timeout=3).close()
PY
}
if ! pg_up; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing PostgreSQL with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql/*/main >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql | sort -V | tail -n1)
    conf=/etc/postgresql/$ver/main
    # trust auth on loopback for the test user, as a CI database usually is
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf" 2>/dev/null && [ -w "$conf/pg_hba.conf" ]; then
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$conf/pg_hba.conf"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || pg_ctlcluster --skip-systemctl-redirect "$ver" main reload 2>/dev/null || true
    for _ in $(seq 1 20); do pg_up && break; sleep 0.5; done
  fi
fi
if pg_up; then
  export AUDIOMUSE_TEST_POSTGRES_URL=$pg_url
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! test.sh: no PostgreSQL at $pg_url and none could be started: postgres tests will be SKIPPED !!" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  unset AUDIOMUSE_TEST_POSTGRES_URL
fi

if [ ! -x .cache/supysonic-venv/bin/supysonic-server ]; then
  echo "test.sh: installing supysonic (a Subsonic-API server for the provider tests) into .cache/supysonic-venv"
  mkdir -p .cache
  python3 -m venv .cache/supysonic-venv
  .cache/supysonic-venv/bin/python -m pip install -q supysonic waitress || echo "test.sh: supysonic install failed; Subsonic server tests will be skipped" >&2
fi
[ -x .cache/supysonic-venv/bin/supysonic-server ] && export AUDIOMUSE_TEST_SUPYSONIC_BIN=$PWD/.cache/supysonic-venv/bin

# Headless Chromium from Debian for the UI tests (Playwright drives it; no browser download is possible).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "test.sh: installing chromium with apt-get (for the UI tests)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || true
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! test.sh: no /usr/bin/chromium and it could not be installed: UI browser tests will be SKIPPED !!" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
fi

# Docker for the image tests (tests/docker): an engine (Debian's docker.io provides dockerd), debootstrap to
# make a base image without a registry, and a compose CLI to check docker/compose.yaml. Installed with
# apt-get and started when running as root; AUDIOMUSE_TEST_DOCKER=0 skips the image tests on purpose.
docker_up() { command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; }
compose_cli() { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; }
if [ "${AUDIOMUSE_TEST_DOCKER:-}" != 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=""
    docker_up || command -v dockerd >/dev/null || missing="$missing docker.io"
    command -v debootstrap >/dev/null || missing="$missing debootstrap"
    compose_cli || missing="$missing docker-compose"
    if [ -n "$missing" ]; then
      echo "test.sh: installing$missing with apt-get (for the Docker image tests)"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null) || true
    fi
    if ! docker_up && command -v dockerd >/dev/null; then
      echo "test.sh: starting dockerd (log in .cache/dockerd.log)"
      mkdir -p .cache
      (setsid dockerd >.cache/dockerd.log 2>&1 &)
      for _ in $(seq 1 30); do docker_up && break; sleep 1; done
    fi
  fi
  if docker_up && command -v debootstrap >/dev/null; then
    export AUDIOMUSE_TEST_DOCKER=1
  else
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    echo "!! test.sh: no Docker engine (or no debootstrap) could be started: image tests will be SKIPPED  !!" >&2
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    unset AUDIOMUSE_TEST_DOCKER
  fi
fi
