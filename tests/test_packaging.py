"""`pip install .` (not editable) works from any directory: the instance folder follows the working
directory (or ASTREINTE_INSTANCE), never site-packages, and the package data (templates, static
files, migrations, the example organisation) is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel and installed into a folder of its own (its dependencies are
    this environment's)."""
    tmp = tmp_path_factory.mktemp("installed")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", str(ROOT), "-w", str(tmp / "dist")], check=True, cwd=tmp)
    wheel = next((tmp / "dist").glob("astreinte-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(tmp / "site"), str(wheel)], check=True)
    return tmp / "site"


def _run(site: Path, cwd: Path, code: str, **env: str) -> str:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "ASTREINTE_INSTANCE")
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(site), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_installed_package_keeps_its_data_out_of_site_packages(site: Path, tmp_path: Path):
    where = _run(site, tmp_path, "import wsgi; print(wsgi.__file__)")
    assert where.strip() == str(site / "wsgi.py")  # the installed copy, not the source tree
    _run(site, tmp_path, "import sys, wsgi; sys.argv = ['astreinte', 'db', 'upgrade']; wsgi.cli()")
    assert (tmp_path / "instance" / "astreinte.db").exists()
    assert (tmp_path / "instance" / "secret_key").exists()
    assert not (site / "instance").exists()

    page = _run(
        site,
        tmp_path,
        "import wsgi; c = wsgi.create_app().test_client(); r = c.get('/login'); "
        "print(r.status_code, c.get('/assets/desk.css').status_code)",
    )
    assert page.split() == ["200", "200"]  # templates and static files were installed


def test_the_instance_folder_follows_astreinte_instance(site: Path, tmp_path: Path):
    elsewhere = tmp_path / "var" / "astreinte"
    code = "import sys, wsgi; sys.argv = ['astreinte', 'db', 'upgrade']; wsgi.cli()"
    _run(site, tmp_path, code, ASTREINTE_INSTANCE=str(elsewhere))
    assert (elsewhere / "astreinte.db").exists() and not (tmp_path / "instance").exists()


def test_the_installed_demo_finds_the_example_organisation(site: Path, tmp_path: Path):
    out = _run(
        site,
        tmp_path,
        "import sys, wsgi; sys.argv = ['astreinte', 'demo', '--night', '2026-11-24']; wsgi.cli()",
    )
    assert "pris en charge par Chloé Durand (par SMS)" in out
