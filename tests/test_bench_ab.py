"""``benchmarks/ab.py`` imports an earlier revision beside the working tree: every module of
the unpacked package must be its own copy (a stray ``from actlab`` would time the working
tree against itself)."""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_ab():
    spec = importlib.util.spec_from_file_location("ab", ROOT / "benchmarks" / "ab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _in_git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(not _in_git_checkout(), reason="needs git and a checkout")
def test_the_unpacked_revision_is_a_separate_package(tmp_path, monkeypatch):
    ab = _load_ab()
    ab.unpack("HEAD", tmp_path)
    package = tmp_path / "actlab_rev"
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert "from actlab." not in text, path
        assert "import actlab\n" not in text, path
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        rev = importlib.import_module("actlab_rev")
        import actlab

        assert rev.softmax is not actlab.softmax
        loaded = [m for name, m in sys.modules.items() if name.startswith("actlab_rev")]
        assert len(loaded) > 10
        for module in loaded:
            origin = getattr(module, "__file__", None)
            assert origin is None or origin.startswith(str(package)), module
    finally:
        for name in [n for n in sys.modules if n.startswith("actlab_rev")]:
            del sys.modules[name]
