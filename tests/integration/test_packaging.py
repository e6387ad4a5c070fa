"""What a Python user gets from `pip install .`: one `yizhan` package with the console assets and
the `yizhan` command, and no generic top-level names (`server`, `protocol`, …) claimed.

The wheel is built from a copy of the checkout and installed into a new virtualenv; the
dependencies come from the test environment's site-packages (a path line, so the checkout's
editable install there is not seen), which keeps this test off the network.
"""

import shutil
import site
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, ServerProc, wait_for

GENERIC = ["server", "protocol", "gateway", "device_sim", "bench"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the project installed from a built wheel; returns its bin/."""
    work = tmp_path_factory.mktemp("packaging")
    src = work / "src"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work, src],
        check=True,
        capture_output=True,
    )
    (wheel,) = work.glob("yizhan-*.whl")
    vsite = next((venv / "lib").glob("python3*/site-packages"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", vsite, wheel],
        check=True,
        capture_output=True,
    )
    # console script: pip --target does not write one into the venv, so call the entry point
    (venv / "bin" / "yizhan").write_text(
        f"#!{venv}/bin/python\nimport sys\nfrom yizhan.cli import main\nsys.exit(main())\n"
    )
    (venv / "bin" / "yizhan").chmod(0o755)
    (vsite / "zz_test_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv / "bin"


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_the_installed_command_prints_its_version(installed: Path, tmp_path: Path) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    out = run(installed / "yizhan", "--version", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"yizhan {version}"
    help_ = run(installed / "yizhan", "server", "--help", cwd=tmp_path)
    assert help_.returncode == 0 and "usage: yizhan server" in help_.stdout


def test_only_the_namespaced_package_is_importable(installed: Path, tmp_path: Path) -> None:
    python = installed / "python"
    ok = run(
        python,
        "-c",
        "import yizhan.server.entrypoints.http.app, yizhan.protocol; print(yizhan.server.__file__)",
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert str(installed.parent) in ok.stdout, "yizhan.server must come from the installed wheel"
    for name in GENERIC:
        # outside the checkout: not installed at all
        assert run(python, "-c", f"import {name}", cwd=tmp_path).returncode != 0, name
        # inside the checkout the folder is there, but refuses the generic name
        inside = run(python, "-c", f"import {name}", cwd=REPO)
        assert inside.returncode != 0 and f"import yizhan.{name}" in inside.stderr, name


def test_the_installed_server_serves_the_console(
    installed: Path, make_server: Callable[..., ServerProc], tmp_path: Path
) -> None:
    server = make_server(start=False)
    log = (tmp_path / "installed-server.log").open("wb")
    proc = subprocess.Popen(
        [installed / "yizhan", "server"], env=server.env(), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    try:

        def up() -> bool:
            assert proc.poll() is None, (tmp_path / "installed-server.log").read_text()
            try:
                return httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 30, what="installed server answers")
        page = httpx.get(f"{server.url}/", timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()
        script = httpx.get(f"{server.url}/console/app.js", timeout=5)
        assert script.status_code == 200 and len(script.text) > 1000
    finally:
        proc.terminate()
        proc.wait(20)
