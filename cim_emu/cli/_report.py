"""A small HTML report: sections of text, tables and figures, written atomically (private to the CLI)."""

from __future__ import annotations

import html
import os
import pathlib
import shutil


class Report:
    """Collects report content in a staging directory and moves it into place on :meth:`publish`.

    Figures are written by the stages into :attr:`directory` (the staging directory); if the demo fails,
    nothing replaces a previous report and the staging directory is removed.
    """

    def __init__(self, destination: str | os.PathLike, title: str):
        from cim_emu.cli._outputs import check_directory, make_staging_directory, remove_stale_staging

        self.destination = check_directory(destination, "--out").resolve()
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(self.destination.parent, self.destination.name)
        self.directory = make_staging_directory(self.destination.parent, self.destination.name)
        self.title = title
        self._parts: list[str] = []

    def section(self, title: str, text: str = "") -> None:
        self._parts.append(f"<h2>{html.escape(title)}</h2>")
        if text:
            self.text(text)

    def text(self, text: str) -> None:
        self._parts.append(f"<p>{html.escape(text)}</p>")

    def table(self, header: list[str], rows: list[list]) -> None:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
        self._parts.append(f"<table><tr>{head}</tr>{body}</table>")

    def figure(self, path: str | os.PathLike, caption: str = "") -> None:
        relative = pathlib.Path(path).resolve().relative_to(self.directory)
        self._parts.append(f'<figure><img src="{html.escape(relative.as_posix())}" alt="{html.escape(caption)}">'
                           f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    def publish(self) -> pathlib.Path:
        """Write index.html and atomically replace the destination directory."""
        page = ("<!doctype html><html><head><meta charset='utf-8'>"
                f"<title>{html.escape(self.title)}</title><style>"
                "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
                "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:2px 8px;"
                "text-align:left}figure{display:inline-block;margin:0.5em;vertical-align:top}"
                "img{max-width:520px}figcaption{font-size:0.85em;color:#444}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1>" + "\n".join(self._parts) + "</body></html>")
        (self.directory / "index.html").write_text(page, encoding="utf-8")
        # mkdtemp made the staging directory 0700; the report gets a new directory's usual permissions.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(self.directory, 0o777 & ~mask)
        from cim_emu.cli._outputs import signals_deferred

        with signals_deferred():  # the swap below completes or does not start
            return self._swap_into_place()

    def _swap_into_place(self) -> pathlib.Path:
        old = None
        if self.destination.exists() and not self.destination.is_dir():
            raise ValueError(f"--out {self.destination}: exists and is not a directory; it is not replaced")
        if self.destination.exists():
            old = self.destination.with_name(f".{self.destination.name}.staging-{os.getpid()}-old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(self.destination, old)
        os.replace(self.directory, self.destination)
        if old is not None:
            shutil.rmtree(old)
        return self.destination / "index.html"

    def discard(self) -> None:
        from cim_emu.cli._outputs import signals_deferred

        with signals_deferred():
            shutil.rmtree(self.directory, ignore_errors=True)
