"""The repository stands on its own: what a fresh clone holds is sources, every link and reference
resolves inside it, and the package list in pyproject covers every Python folder."""

import re
import subprocess
import tomllib
from pathlib import Path

from tests.conftest import REPO

SHARED = "../" + "shared"  # spelt apart so this file does not match itself
ISSUE = re.compile(r"\bthe issue\b|\bissue\s*#?\d+|/issues/\d+|\bissue's\b", re.IGNORECASE)
MD_NAME = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def tracked() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True)
    return [REPO / n for n in names.stdout.splitlines() if (REPO / n).is_file()]


def text_files() -> list[Path]:
    out = []
    for path in tracked():
        if path.suffix in {".png", ".jpg", ".xlsx", ".ico", ".woff", ".woff2"}:
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        out.append(path)
    return out


def test_no_file_points_outside_the_repository_or_at_an_issue() -> None:
    this = Path(__file__).resolve()
    offenders = []
    for path in text_files():
        if path == this:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SHARED in line or ISSUE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()[:100]}")
    assert not offenders, "\n".join(offenders)


def test_every_document_named_in_the_sources_is_in_the_repository() -> None:
    files = tracked()
    present = {p.name for p in files} | {str(p.relative_to(REPO)) for p in files}
    missing = []
    for path in text_files():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in MD_NAME.findall(line):
                if name not in present:
                    missing.append(f"{path.relative_to(REPO)}:{n}: {name}")
    assert not missing, "\n".join(missing)


def test_every_markdown_link_resolves() -> None:
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("**/*.md"))]
    broken = []
    for doc in docs:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"https?://", target) or target.startswith("mailto:"):
                continue
            path = target.partition("#")[0]
            if not path:  # a link to a heading of the same file
                continue
            if not (doc.parent / path).resolve().exists():
                broken.append(f"{doc.relative_to(REPO)}: {target}")
    assert not broken, "\n".join(broken)


def test_pyproject_installs_every_python_folder() -> None:
    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping: dict[str, str] = tool["package-dir"]
    folders = {}
    for package, folder in mapping.items():
        for init in (REPO / folder).glob("**/__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            folders[".".join([package, *rel.parts])] = init.parent
    assert sorted(tool["packages"]) == sorted(folders)


def test_a_tracked_build_output_fails_the_tree_check(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    (clone / "scripts" / "check-tree").write_bytes((REPO / "scripts" / "check-tree").read_bytes())
    clean = subprocess.run(["scripts/check-tree"], cwd=clone, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    (clone / ".venv" / "bin").mkdir(parents=True)
    (clone / ".venv" / "bin" / "pytest").write_text("#!/home/someone/.venv/bin/python\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "-f", ".venv/bin/pytest"], cwd=clone, check=True)
    subprocess.run([*git, "commit", "-qm", "oops"], cwd=clone, check=True)
    dirty = subprocess.run(["scripts/check-tree"], cwd=clone, capture_output=True, text=True)
    assert dirty.returncode == 1
    assert ".venv/bin/pytest" in dirty.stderr
