"""Install the course package without PyTorch into a throwaway venv per Python version and run its unit tests there.

Usage: python tools/test_pythons.py 3.12 3.13 (`make test-pythons`). The interpreter for version X.Y is `pythonX.Y` on
PATH or pyenv's; the install uses constraints.txt, so the same versions as the book's own build, and must not pull
PyTorch or any CUDA package.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Test modules that need the [book] extra (Jupyter Book, jupytext, nbclient, Playwright's browser): not unit tests.
BOOK_TESTS = {"test_book_cache.py", "test_chapters.py", "test_consistency.py", "test_jupyterlab.py", "test_site.py"}


def interpreter(version: str) -> str:
    """The path of a working Python `version` ("3.13"): from PATH, else from pyenv's versions."""
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for path in filter(None, candidates):
        probe = subprocess.run([path, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == str(tuple(map(int, version.split(".")))):
            return path
    sys.exit(f"no working python{version} found (on PATH or in ~/.pyenv/versions)")


def unit_tests() -> list[str]:
    """The test modules that need only the package and its [test] extra."""
    return [f"tests/{p.name}" for p in sorted((ROOT / "tests").glob("test_*.py")) if p.name not in BOOK_TESTS]


def check(version: str) -> bool:
    """Create a venv for `version`, install `.[test]` without torch, run the unit tests but the torch ones; passed?"""
    with tempfile.TemporaryDirectory(prefix=f"kexue-py{version}-") as tmp:
        venv = Path(tmp) / "venv"
        python = str(venv / "bin" / "python")
        start = time.perf_counter()
        subprocess.run([interpreter(version), "-m", "venv", str(venv)], check=True)
        pip = [python, "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt")]
        subprocess.run(pip + ["pip"], check=True)
        # A regular (not editable) install from a copy of the sources, as a user's from git: it proves the wheel builds
        # and ships its package data, and leaves no build/ folder in the checkout.
        source = Path(tmp) / "source"
        shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy(ROOT / name, source / name)
        subprocess.run(pip + [f"{source}[test]"], check=True)
        installed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"],
                                   check=True, capture_output=True, text=True).stdout.lower()
        heavy = [line for line in installed.splitlines() if line.startswith(("torch==", "nvidia-", "triton=="))]
        if heavy:
            sys.exit(f"Python {version}: the install without the [torch] extra pulled {heavy}")
        installed_s = time.perf_counter() - start
        # The src layout keeps the checkout's kexue off sys.path: the tests import the installed package.
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        tests = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                "--continue-on-collection-errors", "-m", "not slow and not torch",
                                *unit_tests()], cwd=ROOT, env=env, check=False)
        print(f"Python {version}: installed in {installed_s:.0f} s, tests in "
              f"{time.perf_counter() - start - installed_s:.0f} s", flush=True)
        return tests.returncode == 0


if __name__ == "__main__":
    failed = [v for v in sys.argv[1:] or ["3.12", "3.13"] if not check(v)]
    if failed:
        sys.exit(f"the unit tests failed under Python {', '.join(failed)}")
