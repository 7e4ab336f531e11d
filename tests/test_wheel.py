"""The wheel: ``python -m build`` makes one that holds every file of ``src/rnnlab`` (the
playground's static files and any data file included) and the licence, and that works
installed in a fresh virtual environment, away from the source tree: ``rnnlab --help``,
``rnnlab tasks`` and one short training.

The fresh environment reuses this one's installed dependencies through a ``.pth`` line
(nothing is downloaded). Python runs the ``.pth`` files of site-packages only, not of a
folder that a ``.pth`` line adds, so this environment's editable install of rnnlab (a
``.pth`` hook) stays out of it: ``import rnnlab`` finds the installed wheel or nothing.
"""

import email
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest
from packaging.requirements import Requirement

import rnnlab

ROOT = pathlib.Path(__file__).resolve().parents[1]
SKIP = {".git", ".venv", "runs", "site", "build", "dist", "__pycache__", ".pytest_cache"}


def _source_files() -> list[str]:
    """The project's files as a clean clone would have them, plus any not yet committed."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        return [f for f in listed if (ROOT / f).is_file()]
    return [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*")
        if p.is_file() and not SKIP & set(p.relative_to(ROOT).parts)
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Copy the sources out of the tree (a build writes build/ and egg-info beside them)
    and build the wheel there, with this environment's setuptools (no download)."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src-copy"
    files = _source_files()
    for f in files:
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f)
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work)],
        cwd=src,
        check=True,
        capture_output=True,
    )
    (wheel,) = work.glob("rnnlab-*.whl")
    package_files = sorted(f for f in files if f.startswith("src/rnnlab/"))
    return work, wheel, package_files


def test_wheel_holds_every_package_file_and_the_metadata(built):
    _, wheel, package_files = built
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f.removeprefix("src/") for f in package_files}
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel: {missing[:10]}"
    assert any(n.startswith("rnnlab/playground/static/") and n.endswith(".js") for n in names)
    dist_info = f"rnnlab-{rnnlab.__version__}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    meta = email.message_from_bytes(zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA"))
    assert meta["Version"] == rnnlab.__version__
    assert meta["License-Expression"] == "MIT"
    assert "Programming Language :: Python :: 3.11" in meta.get_all("Classifier")
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode()
    assert "rnnlab = rnnlab.cli:main" in entry_points


@pytest.fixture(scope="module")
def installed(built):
    work, wheel, _ = built
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # This environment's packages (jax, equinox, ...) after the fresh site-packages.
    pathlib.Path(site, "reused-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
        + ["--no-index", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["RNNLAB_CACHE"] = str(work / "cache")
    return venv, work, env


def _run(installed, *args, timeout=300):
    venv, work, env = installed
    return subprocess.run(
        [str(venv / "bin" / "rnnlab"), *args],
        cwd=work,  # not the source tree
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_installed_wheel_is_imported_and_its_requirements_are_met(installed):
    venv, work, env = installed
    probe = (
        "import importlib.metadata as md, rnnlab; print(rnnlab.__file__); "
        "print('\\n'.join(md.requires('rnnlab')))"
    )
    out = subprocess.run(
        [venv / "bin" / "python", "-c", probe],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert pathlib.Path(out[0]).is_relative_to(venv), out[0]
    assert not pathlib.Path(out[0]).is_relative_to(ROOT / "src")
    # every plain requirement of the wheel is satisfied by what the environment holds
    import importlib.metadata as md

    for line in out[1:]:
        req = Requirement(line)
        if req.marker is not None and "extra" in str(req.marker):
            continue
        assert req.specifier.contains(md.version(req.name), prereleases=True), line


def test_installed_command_runs(installed):
    result = _run(installed, "--help")
    assert result.returncode == 0, result.stderr
    for command in ("train", "eval", "sample", "tasks", "inspect", "playground", "spikes"):
        assert command in result.stdout
    result = _run(installed, "tasks")
    assert result.returncode == 0, result.stderr
    for task in ("charlm", "motions", "xor", "reber"):
        assert task in result.stdout


def test_installed_command_trains(installed):
    venv, work, _ = installed
    run = work / "xor-run"
    result = _run(installed, "train", "--task", "xor", "--steps", "30", "--out", str(run))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (run / "config.json").is_file()
    assert (run / "metrics.jsonl").read_text().strip()
