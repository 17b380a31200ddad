"""Read only what belongs to the project: regular files inside their expected folder, after resolving symlinks.

Everything a pull request can change is untrusted, symlinks included: a `summary.md` that links to `.git/config`
(which holds the checkout token) or to `/proc/self/environ` would otherwise be published. Every file the
generator reads from content, sources, styles or its cache goes through `check_file` (or a reader built on it),
and every configured folder through `check_folder`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

GIT_DIR = ".git"
MAX_READ_BYTES = 20 * 2**20  # a file the generator reads whole (a report's text, a .bib file, a style)
TOO_LARGE_HINT = "split it; the generator reads text files of at most 20 MB"


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.1f} KB"


def too_large(size: int) -> str:
    return f"is {_size(size)}, larger than the {_size(MAX_READ_BYTES)} a text file may be"


class UnsafePath(Exception):
    """A path the generator refuses to read; `message` says why in the user's words."""

    def __init__(self, path: Path, message: str, hint: str = ""):
        super().__init__(message)
        self.path = path
        self.message = message
        self.hint = hint


def is_inside(path: Path, folder: Path) -> bool:
    """True when `path` is `folder` or lies below it (both resolved: symlinks followed, `..` removed)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _label(folder: Path, root: Path | None) -> str:
    """How a folder is named in messages: `content/`, relative to the project when possible."""
    if root is not None and is_inside(folder, root):
        relative = folder.resolve().relative_to(root.resolve()).as_posix()
        return "the project folder" if relative == "." else f"{relative}/"
    return f"{folder.name}/"


def check_file(path: Path, folder: Path, root: Path | None = None) -> None:
    """Raise UnsafePath unless `path` is a regular file that, with symlinks resolved, lies inside `folder`
    (and outside `.git`). A missing file raises FileNotFoundError, as reading it would."""
    resolved, inside = path.resolve(), folder.resolve()
    if resolved != inside and inside not in resolved.parents:
        where = _label(folder, root)
        if path.is_symlink() or any(parent.is_symlink() for parent in _parents_below(path, folder)):
            raise UnsafePath(path, f"is a symbolic link to a file outside {where}",
                             f"replace the link with the file itself, inside {where}")
        raise UnsafePath(path, f"lies outside {where}", f"keep the file inside {where}")
    if root is not None and _in_git_dir(resolved, root):
        raise UnsafePath(path, "lies inside .git/", "git's own files are never content")
    try:
        mode = os.stat(resolved).st_mode
    except FileNotFoundError:
        raise  # as reading it would: the caller says which file is missing
    except OSError as exc:
        raise UnsafePath(path, f"cannot be read ({exc.strerror})") from exc
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode) else \
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else \
            "not a regular file"
        raise UnsafePath(path, f"is {kind}, not a regular file", "only regular files are read")


def _parents_below(path: Path, folder: Path) -> list[Path]:
    """The folders between `folder` (exclusive) and `path` (exclusive), as written (not resolved)."""
    try:
        relative = path.relative_to(folder)
    except ValueError:
        return []
    parents = []
    current = folder
    for part in relative.parts[:-1]:
        current = current / part
        parents.append(current)
    return parents


def _in_git_dir(resolved: Path, root: Path) -> bool:
    try:
        parts = resolved.relative_to(root.resolve()).parts
    except ValueError:
        return False
    return GIT_DIR in parts


def read_text(path: Path, folder: Path, root: Path | None = None) -> str:
    """A UTF-8 text file of `folder`; UnsafePath, FileNotFoundError, OSError or UnicodeDecodeError otherwise."""
    return read_bytes(path, folder, root).decode("utf-8")


def read_bytes(path: Path, folder: Path, root: Path | None = None) -> bytes:
    """A regular file of `folder` of at most MAX_READ_BYTES; UnsafePath otherwise."""
    check_file(path, folder, root)
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_READ_BYTES:
            raise UnsafePath(path, too_large(size), TOO_LARGE_HINT)
        return file.read(MAX_READ_BYTES + 1)


def check_folder(path: Path, root: Path, what: str, *, allow_symlink: bool = True) -> str:
    """Why a configured folder may not be used (an empty string when it may): it must lie inside the project,
    outside `.git`, and — for the cache, which is written to — contain no symbolic link at all."""
    full = root / path
    if not allow_symlink and not path.is_absolute():
        for current in _parents_below(full / "x", root):
            if current.is_symlink():
                return f"{what} `{path.as_posix()}` is a symbolic link (or lies under one)"
    if path.is_absolute() and not is_inside(path, root):
        return f"{what} `{path}` is outside the project"
    if not is_inside(full, root):
        return f"{what} `{path.as_posix()}` is outside the project"
    if _in_git_dir(full.resolve(), root):
        return f"{what} `{path.as_posix()}` is inside .git/"
    return ""


def walk_files(folder: Path, suffix: str, root: Path | None = None) -> tuple[list[Path], list[UnsafePath]]:
    """Every regular `*suffix` file below `folder`, sorted, without following symlinked folders; files that may not
    be read (links out of `folder`, pipes, devices) come back as UnsafePath problems instead."""
    found: list[Path] = []
    refused: list[UnsafePath] = []
    if not folder.is_dir():
        return found, refused
    for path in sorted(_walk(folder)):
        if path.is_dir():  # a symlinked folder: not followed (its target, if inside, is walked on its own)
            if not is_inside(path, folder):
                refused.append(UnsafePath(path, f"is a symbolic link to a folder outside {_label(folder, root)}",
                                          "replace the link with the folder itself"))
            continue
        if not path.name.endswith(suffix):
            continue
        try:
            check_file(path, folder, root)
        except UnsafePath as exc:
            refused.append(exc)
            continue
        except FileNotFoundError:  # a dangling link
            refused.append(UnsafePath(path, "is a symbolic link to nothing", "remove it"))
            continue
        found.append(path)
    return found, refused


def _walk(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        for name in dirnames:
            if (base / name).is_symlink():
                yield base / name
        for name in filenames:
            yield base / name


def unsafe_entries(folder: Path, root: Path | None = None, *, inner_folder_links: bool = False) -> list[UnsafePath]:
    """Every entry below `folder` that a build could publish or read but must not: symbolic links to folders (which
    engines follow, in loops if they point up), links to files outside the folder, and special files (pipes,
    devices, sockets). `inner_folder_links`: links to folders inside `folder` are fine (our own walks never follow
    links to folders; an engine's walk of docs/ does)."""
    refused: list[UnsafePath] = []
    if not folder.is_dir():
        return refused
    for path in sorted(_walk(folder)):
        if path.is_symlink() and not path.exists():
            continue  # a dangling link publishes nothing
        if path.is_dir():
            if not is_inside(path, folder):
                refused.append(UnsafePath(path, f"is a symbolic link to a folder outside {_label(folder, root)}",
                                          "replace the link with the folder itself"))
            elif not inner_folder_links:  # engines follow them: one that points up (`docs/a -> .`) never ends
                refused.append(UnsafePath(path, "is a symbolic link to a folder",
                                          "replace the link with the folder itself (or a copy of it)"))
            continue
        try:
            check_file(path, folder, root)
        except UnsafePath as exc:
            refused.append(exc)
        except FileNotFoundError:
            continue
    return refused
