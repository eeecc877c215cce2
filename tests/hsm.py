"""SoftHSM2 for the tests: a token in a temporary directory, as an HSM would hold the fund's keys.

Debian's ``softhsm2`` (``/usr/lib/softhsm/libsofthsm2.so`` and ``softhsm2-util``).
``SOFTHSM2_CONF`` is read when the library is first loaded, once per process: it
is set before, and every token of the session lives in the same directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
USER_PIN = "8403-1177"
SO_PIN = "5921-6630"


def softhsm_available() -> bool:
    return Path(SOFTHSM_MODULE).exists() and shutil.which("softhsm2-util") is not None


def softhsm_directory(base: Path) -> Path:
    """Point SoftHSM2 at ``base`` (a configuration and a token directory); once per process."""
    tokens = base / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return base


def init_token(label: str, pin_file: Path) -> None:
    """A new token ``label`` with the user PIN written to ``pin_file`` (0600, as a mounted secret)."""
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", USER_PIN, "--so-pin", SO_PIN],
        check=True,
        capture_output=True,
        env=os.environ,
        timeout=30,
    )
    pin_file.write_text(USER_PIN + "\n")
    pin_file.chmod(0o600)
