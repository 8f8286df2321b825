#!/usr/bin/env python3
"""Set up OSOM in a local virtual environment, then run it or test it.

    python3 quickstart.py          # set up, load the demo organisation, run the app
    python3 quickstart.py test     # set up, run the whole test suite (extra args go to pytest)

Needs only Python 3.11 or newer. Everything is installed into ./.venv.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("OSOM_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def say(text: str) -> None:
    print(f"» {text}", flush=True)


def ensure_environment(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"OSOM needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        say(f"Creating a virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    # Reinstall only when the project's requirements changed.
    stamp = VENV / f".osom-installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say("Installing OSOM and what it needs (a minute the first time)")
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "-e", target], check=True, cwd=ROOT)
    stamp.write_text(digest)


def run_app(args: list[str]) -> int:
    ensure_environment("")
    osom = str(BIN / "osom")
    say("Preparing the database and the demo organisation")
    subprocess.run([osom, "demo"], check=True, cwd=ROOT)
    host = os.environ.get("OSOM_HOST", "127.0.0.1")
    port = os.environ.get("OSOM_PORT", "8000")
    return subprocess.call([osom, "serve", "--host", host, "--port", port, *args], cwd=ROOT)


def run_tests(args: list[str]) -> int:
    ensure_environment("test")
    env = dict(os.environ)
    env.setdefault("OSOM_DATA_DIR", str(ROOT / "data" / "test"))
    database = env.get("OSOM_DATABASE_URL", "sqlite (embedded)")
    say(f"Running the test suite against {database.split('@')[-1]}")
    return subprocess.call([str(PY), "-m", "pytest", *args], cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "test":
        return run_tests(argv[1:])
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    return run_app(argv)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
