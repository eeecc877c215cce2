# Sourced by bin/demo and bin/test. `check_prerequisites demo|test` checks every
# Debian package the command needs first and names all the missing ones in ONE
# `apt-get install` line (nothing is installed or run then); when everything is
# there, it creates .venv, or rebuilds a half-made one, and installs the locked
# packages into it when the lock changed since the last install.
#
#   bin/_env.sh --check demo|test    # only the check: touches nothing
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"

# Whether something accepts TCP connections on host:port (bash's /dev/tcp, no tool needed).
_answers() {
  local host="${1%:*}" port="${1##*:}"
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# The binary tests/servers.py would start when no server answers (same overrides).
_have_pg_ctl() {
  if [ -n "${DAMANE_PG_CTL+set}" ]; then [ -x "$DAMANE_PG_CTL" ]; return; fi
  command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}
_have_redis_server() {
  if [ -n "${DAMANE_REDIS_SERVER+set}" ]; then [ -x "$DAMANE_REDIS_SERVER" ]; return; fi
  command -v redis-server >/dev/null 2>&1
}

# PgBouncer, which tests/test_pgbouncer.py starts in front of the test database.
_have_pgbouncer() {
  if [ -n "${DAMANE_PGBOUNCER+set}" ]; then [ -x "$DAMANE_PGBOUNCER" ]; return; fi
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]
}

# SoftHSM2 (the tool that makes tokens, and the PKCS#11 module the tests sign through).
_have_softhsm() {
  if [ -n "${DAMANE_SOFTHSM+set}" ]; then [ -x "$DAMANE_SOFTHSM" ]; return; fi
  { command -v softhsm2-util >/dev/null 2>&1 || [ -x /usr/bin/softhsm2-util ]; } && [ -e /usr/lib/softhsm/libsofthsm2.so ]
}

# HAProxy, which checks the balancer's configuration (tests/test_balancer.py).
_have_haproxy() {
  if [ -n "${DAMANE_HAPROXY+set}" ]; then [ -x "$DAMANE_HAPROXY" ]; return; fi
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]
}

_LIBRARIES=""
_have_library() {
  local name="$1"
  if command -v ldconfig >/dev/null 2>&1; then
    # Read once, then grep a string: `ldconfig -p | grep -q` under pipefail fails on SIGPIPE.
    [ -n "$_LIBRARIES" ] || _LIBRARIES="$(ldconfig -p 2>/dev/null || true)"
    grep -qF "$name " <<<"$_LIBRARIES"
  else
    compgen -G "/usr/lib/*/$name" >/dev/null || compgen -G "/lib/*/$name" >/dev/null
  fi
}

# Prints the Debian packages missing for "demo" or "test", one a line.
missing_packages() {
  local mode="$1"
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo python3
    echo python3-venv
  elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    # Debian splits venv's pip bootstrap off the interpreter: without it `python3 -m venv`
    # makes a .venv with no pip.
    echo python3-venv
  fi
  # WeasyPrint renders the certificates with Pango (HarfBuzz shapes the Arabic).
  _have_library libpango-1.0.so.0 || echo libpango-1.0-0
  _have_library libpangoft2-1.0.so.0 || echo libpangoft2-1.0-0
  _have_library libharfbuzz-subset.so.0 || echo libharfbuzz-subset0
  # Fonts with Arabic glyphs for the certificates. Read fc-list once: `fc-list | grep -q`
  # under pipefail fails on SIGPIPE.
  local fonts=""
  if command -v fc-list >/dev/null 2>&1; then
    fonts="$(fc-list 2>/dev/null || true)"
  else
    echo fontconfig
  fi
  grep -qi "Noto Naskh Arabic" <<<"$fonts" || echo fonts-noto-core
  grep -qi "DejaVu Sans" <<<"$fonts" || echo fonts-dejavu-core
  grep -qi "Noto Sans Mono" <<<"$fonts" || echo fonts-noto-mono
  # compilemessages, and the catalog checks of the tests.
  { command -v msgfmt >/dev/null 2>&1 && command -v msgattrib >/dev/null 2>&1; } || echo gettext
  if [ "$mode" = test ]; then
    # The suite drives Debian's Chromium and reads PDFs with poppler.
    command -v chromium >/dev/null 2>&1 || echo chromium
    { command -v pdftoppm >/dev/null 2>&1 && command -v pdfsig >/dev/null 2>&1; } || echo poppler-utils
    # The fund's key in an HSM: the tests sign through SoftHSM2's PKCS#11 token.
    _have_softhsm || echo softhsm2
    # The balancer's configuration is checked by HAProxy itself (tests/test_balancer.py).
    _have_haproxy || echo haproxy
    # docs/verification.md's check of the signed key list calls openssl (tests/certificates/test_signed_key_list.py).
    command -v openssl >/dev/null 2>&1 || [ -x /usr/bin/openssl ] || echo openssl
    _have_pgbouncer || echo pgbouncer
    # Throwaway servers (tests/servers.py) when no URL is set and nothing answers.
    if [ -z "${DATABASE_URL:-}" ] && ! _answers "${DAMANE_PROBE_POSTGRES:-127.0.0.1:5432}" && ! _have_pg_ctl; then
      echo postgresql
    fi
    if [ -z "${REDIS_URL:-}" ] && ! _answers "${DAMANE_PROBE_REDIS:-127.0.0.1:6379}" && ! _have_redis_server; then
      echo redis-server
    fi
  fi
  return 0
}

# Exits 1 with one line naming every missing package.
check_packages() {
  local mode="$1" missing
  missing="$(missing_packages "$mode" | awk '!seen[$0]++' | tr '\n' ' ')"
  missing="${missing% }"
  if [ -n "$missing" ]; then
    echo "bin/$mode needs Debian packages that are missing. Install them all with:" >&2
    echo "  sudo apt-get install -y $missing" >&2
    exit 1
  fi
}

# A .venv that cannot run pip (an interrupted creation, or one made while ensurepip
# was missing) is rebuilt; the stamp is written only after a complete install, so an
# interrupted install is done again.
ensure_venv() {
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Damane needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))." >&2
    exit 1
  fi
  if [ -e .venv ] || [ -L .venv ]; then
    if ! { [ -x .venv/bin/python ] && .venv/bin/python -m pip --version >/dev/null 2>&1; }; then
      echo "==> .venv is incomplete (interrupted, or made without ensurepip): rebuilding it"
      rm -rf .venv
    fi
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
  fi
  # The pinned, hashed lock (bin/lock writes it from pyproject.toml): two installs a
  # week apart get the same packages. The project itself is run from the tree.
  # The stamp names the lock and its digest (not its date: a checkout or a clone
  # touches the file without changing it).
  local lock="${DAMANE_LOCK:-requirements-test.lock}" stamp=.venv/.damane-installed wanted
  wanted="$lock $("$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$lock")"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "==> installing Python packages from $lock"
    rm -f "$stamp"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet --require-hashes -r "$lock"
    echo "$wanted" >"$stamp"
  fi
  export PATH="$ROOT/.venv/bin:$PATH"
}

check_prerequisites() {
  check_packages "$1"
  ensure_venv
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Run directly: the check alone.
  if [ "${1:-}" != --check ] || { [ "${2:-}" != demo ] && [ "${2:-}" != test ]; }; then
    echo "usage: bin/_env.sh --check demo|test" >&2
    exit 2
  fi
  check_packages "$2"
  echo "Every Debian package bin/$2 needs is installed."
fi
