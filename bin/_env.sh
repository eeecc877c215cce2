# Sourced by bin/demo and bin/test: creates .venv and installs the locked packages
# into it when the lock changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Damane needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
# The pinned, hashed lock (bin/lock writes it from pyproject.toml): two installs a
# week apart get the same packages. The project itself is run from the tree.
LOCK="${DAMANE_LOCK:-requirements-test.lock}"
STAMP=.venv/.damane-installed
if [ ! -f "$STAMP" ] || [ "$LOCK" -nt "$STAMP" ] || [ "$(cat "$STAMP")" != "$LOCK" ]; then
  echo "==> installing Python packages from $LOCK"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --require-hashes -r "$LOCK"
  echo "$LOCK" >"$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"

check_system_libraries() {
  # WeasyPrint needs Pango (with HarfBuzz for Arabic shaping); certificates need
  # fonts with Arabic glyphs; compilemessages needs gettext.
  local missing=()
  python - <<'PY' 2>/dev/null || missing+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
import weasyprint  # noqa: F401
PY
  # Read fc-list once: `fc-list | grep -q` under pipefail fails on SIGPIPE.
  local fonts
  fonts="$(fc-list 2>/dev/null || true)"
  grep -qi "Noto Naskh Arabic" <<<"$fonts" || missing+=(fonts-noto-core)
  grep -qi "DejaVu Sans" <<<"$fonts" || missing+=(fonts-dejavu-core)
  grep -qi "Noto Sans Mono" <<<"$fonts" || missing+=(fonts-noto-mono)
  command -v msgfmt >/dev/null || missing+=(gettext)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Missing system libraries. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

check_test_tools() {
  # The suite drives Debian's Chromium, reads PDFs with poppler and catalogs with gettext.
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v pdftoppm >/dev/null && command -v pdfsig >/dev/null || missing+=(poppler-utils)
  command -v msgattrib >/dev/null || missing+=(gettext)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Missing tools for the tests. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}
