"""Writing generated tests into a repository: exact paths, never a silent overwrite, a diff first.

Save was a folder picker that never showed the final paths and reused the
name of tests saved before (issue 14). ``plan`` says, for each file, the
exact path, whether it is new, the same as what is there, or different
(with the unified diff), and a fresh name that takes nothing over;
``write`` then overwrites only when told to, and otherwise uses the fresh
name. Small file operations: callers on the event loop use a thread.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from engine.result_paths import all_inside


@dataclass(frozen=True)
class SaveTarget:
    path: Path  # where the file goes under its own name
    code: str
    existing: str | None  # what is there now, if anything

    @property
    def state(self) -> str:
        if self.existing is None:
            return "new"
        return "same" if self.existing == self.code else "differs"

    @property
    def fresh_path(self) -> Path:
        """The first ``name_2.py``, ``name_3.py``… not taken: saving there keeps the existing file."""
        if self.existing is None:
            return self.path
        n = 2
        while (candidate := self.path.with_name(f"{self.path.stem}_{n}{self.path.suffix}")).exists():
            n += 1
        return candidate

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            (self.existing or "").splitlines(keepends=True), self.code.splitlines(keepends=True),
            fromfile=f"{self.path} (now)", tofile=f"{self.path} (generated)"))


def plan(folder: Path, files: dict[str, str]) -> list[SaveTarget]:
    """Where each file goes. The names come from a result, which is input (a shared database's row): each must
    stay inside ``folder`` (engine/result_paths.py), or nothing is planned and ``BadResult`` says which."""
    paths = all_inside(folder, files)
    out = []
    # The tests first, a support file such as tests/conftest.py after them (a result stored as jsonb
    # comes back with its keys in jsonb's order, shortest first).
    for name, code in sorted(files.items(), key=lambda item: Path(item[0]).name == "conftest.py"):
        path = paths[name]
        try:
            existing = path.read_text(encoding="utf-8") if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            existing = ""  # unreadable: treat as different, never overwrite silently
        out.append(SaveTarget(path, code, existing))
    return out


def write(targets: list[SaveTarget], *, overwrite: bool) -> list[Path]:
    """Write each file; one that differs goes over the existing file only with ``overwrite``, else under
    its fresh name. Identical files are left alone. Returns the paths written."""
    written = []
    for target in targets:
        if target.state == "same":
            continue
        path = target.path if (target.state == "new" or overwrite) else target.fresh_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(target.code, encoding="utf-8")
        written.append(path)
    return written
