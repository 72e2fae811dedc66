"""The progress bar of a long study (`sweep`, `compare`): on stderr, and only on a terminal,
so piped JSON and CSV stay clean."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress


def progress_bar(*, show: bool) -> Progress:
    """A rich progress bar (description, bar, done/total, time left) on stderr; disabled
    unless `show` and stderr is a terminal. Use it as a context manager."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not (show and sys.stderr.isatty()),
    )
