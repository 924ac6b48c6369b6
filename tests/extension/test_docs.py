"""The repository's Markdown stands on its own: every relative link points at a file inside
the repository that exists (a fresh clone has nothing beside it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", "node_modules", "lib", "labextension", "build", "dist"}
# [text](target "title"), ![alt](target), and reference definitions [id]: target
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
FENCE = re.compile(r"^\s*(```|~~~).*?^\s*\1", re.MULTILINE | re.DOTALL)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.md") if not SKIP_DIRS.intersection(p.relative_to(root).parts[:-1])
    )


def link_problems(root: Path) -> list[str]:
    """One line per relative link that leaves ``root`` or names a missing file."""
    problems = []
    for md in markdown_files(root):
        text = FENCE.sub("", md.read_text(encoding="utf-8"))
        targets = INLINE.findall(text) + REFERENCE.findall(text)
        for target in targets:
            if SCHEME.match(target) or target.startswith("#"):
                continue  # a URL or an anchor in the same file
            path = target.split("#", 1)[0].split("?", 1)[0]
            resolved = (root / path.lstrip("/")) if path.startswith("/") else md.parent / path
            resolved = resolved.resolve()
            where = f"{md.relative_to(root)}: {target}"
            if not resolved.is_relative_to(root):
                problems.append(f"{where} leaves the repository")
            elif not resolved.exists():
                problems.append(f"{where} does not exist")
    return problems


def test_repository_markdown_links_stay_inside_and_resolve() -> None:
    assert markdown_files(REPO), "no Markdown found: the scan looks in the wrong place"
    assert link_problems(REPO) == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("See [design](../../shared/DESIGN.md).", "leaves the repository"),
        ("![img](missing.png)", "does not exist"),
        ("[ref]: ../../../elsewhere.md", "leaves the repository"),
        ("[ok](other.md#part) [web](https://example.org) [here](#top)", None),
        ("```\n[not a link](../outside.md)\n```", None),
    ],
)
def test_the_scan_finds_what_it_should(tmp_path: Path, content: str, problem: str | None) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "other.md").write_text("# other\n")
    (repo / "docs" / "page.md").write_text(content + "\n")
    problems = link_problems(repo)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems
