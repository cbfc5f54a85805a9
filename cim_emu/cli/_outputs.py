"""Output paths checked before any work and published together at the end (private to the CLI).

A command first checks every output path (:func:`check_file`, :func:`check_directory`), so that a bad path fails
before minutes of work; it then writes its outputs into a staging area and moves them into place at the end
(:class:`Staging`), so that an error, Ctrl-C or SIGTERM leaves nothing behind and never touches a user's file.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import tempfile

__all__ = ["check_file", "check_directory", "Staging", "remove_stale_staging", "make_staging_directory",
           "signals_deferred"]

_STAGING_TAG = ".staging-"


def _existing_ancestor(path: pathlib.Path) -> pathlib.Path:
    for candidate in [path, *path.parents]:
        if candidate.exists():
            return candidate
    return pathlib.Path(".")


def _probe_writable(directory: pathlib.Path, path: pathlib.Path, flag: str) -> None:
    """Create and remove a file in ``directory``: the only reliable test (also as root, on read-only mounts)."""
    if not directory.is_dir():
        raise ValueError(f"{flag} {path}: {directory} is not a directory")
    try:
        handle, probe = tempfile.mkstemp(dir=directory, prefix=".cim-emu-probe-")
    except OSError as error:
        raise ValueError(f"{flag} {path}: cannot write in {directory} ({error.strerror or error})") from None
    os.close(handle)
    os.unlink(probe)


def check_file(path: str | os.PathLike, flag: str) -> pathlib.Path:
    """Check that ``path`` can be written as a file: not a directory, its nearest existing folder writable."""
    path = pathlib.Path(path)
    if not str(path).strip():
        raise ValueError(f"{flag}: empty path")
    if path.is_dir():
        raise ValueError(f"{flag} {path}: is a directory; give a file name")
    _probe_writable(_existing_ancestor(path.parent), path, flag)
    return path


def check_directory(path: str | os.PathLike, flag: str) -> pathlib.Path:
    """Check that ``path`` can be a directory of outputs: a directory or absent, its parent writable."""
    path = pathlib.Path(path)
    if not str(path).strip():
        raise ValueError(f"{flag}: empty path")
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag} {path}: exists and is not a directory; give a directory (it is not replaced)")
    _probe_writable(_existing_ancestor(path.parent if not path.is_dir() else path), path, flag)
    return path


def remove_stale_staging(parent: pathlib.Path, name: str) -> None:
    """Remove staging folders of ``name`` left by runs whose process no longer exists (e.g. killed by SIGKILL)."""
    for candidate in parent.glob(f".{name}{_STAGING_TAG}*"):
        try:
            pid = int(candidate.name[len(f".{name}{_STAGING_TAG}"):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(candidate, ignore_errors=True)


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGINT and SIGTERM until the block ends (they are delivered then)."""
    signals = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    except (AttributeError, ValueError, OSError):  # pragma: no cover - no pthread_sigmask here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def make_staging_directory(parent: pathlib.Path, name: str) -> pathlib.Path:
    """Create the hidden staging folder of output ``name`` in ``parent`` (named with this process's id).

    A signal arriving while it is created is held until the path is known, and then removes the folder, so a
    Ctrl-C or SIGTERM at any moment leaves nothing behind.
    """
    created = []
    try:
        with signals_deferred():
            created.append(pathlib.Path(tempfile.mkdtemp(prefix=f".{name}{_STAGING_TAG}{os.getpid()}-",
                                                         dir=parent)))
    except BaseException:
        for path in created:
            shutil.rmtree(path, ignore_errors=True)
        raise
    return created[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Staging:
    """A hidden staging folder beside ``destination``; :meth:`publish` moves its entries into place.

    Use as a context manager: leaving the block by any exception (including Ctrl-C and SIGTERM, which the CLI
    turns into exceptions) removes the staging folder. The folder's name carries the process id, so a later run
    removes folders of runs that were killed outright.

    Args:
        anchor: the output whose folder holds the staging folder (its name labels the staging folder).
    """

    def __init__(self, anchor: str | os.PathLike):
        anchor = pathlib.Path(anchor).absolute()
        self.parent = anchor.parent
        self.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(self.parent, anchor.name)
        self.directory = make_staging_directory(self.parent, anchor.name)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()

    def path(self, name: str) -> pathlib.Path:
        """Where to write the staged output ``name``."""
        return self.directory / name

    def publish_file(self, name: str, destination: str | os.PathLike) -> pathlib.Path:
        """Move the staged file ``name`` to ``destination`` (replacing a file there, never a directory)."""
        destination = pathlib.Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory / name, 0o666 & ~_umask())
        os.replace(self.directory / name, destination)
        return destination

    def publish_directory(self, name: str, destination: str | os.PathLike) -> pathlib.Path:
        """Move the staged folder ``name`` to ``destination``: merged into an existing directory (its files
        replaced), or created; a non-directory at ``destination`` is refused, never renamed."""
        source, destination = self.directory / name, pathlib.Path(destination)
        if destination.exists() and not destination.is_dir():
            raise ValueError(f"{destination}: exists and is not a directory; it is not replaced")
        destination.mkdir(parents=True, exist_ok=True)
        for entry in sorted(source.iterdir()):
            target = destination / entry.name
            if entry.is_dir():
                self.publish_directory(f"{name}/{entry.name}", target)
            else:
                os.chmod(entry, 0o666 & ~_umask())
                os.replace(entry, target)
        return destination

    def discard(self) -> None:
        with signals_deferred(), contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.directory)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
