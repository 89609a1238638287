"""Writing a file so that it appears under its name only when it is complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from residency._errors import ResidencyError

T = TypeVar("T")


def write_atomically(out: Path, write: Callable[[IO[Any]], T], *, binary: bool = False) -> T:
    """Call ``write`` on a temporary file beside ``out``, then rename it to ``out``.

    A failed or interrupted write never leaves a half-written file under the name asked
    for; the file gets the permissions an ordinary new file would (not mkstemp's 0600).
    Returns what ``write`` returns.
    """
    folder = out.resolve().parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        msg = f"cannot write {out}: {exc.strerror}"
        raise ResidencyError(msg) from None
    try:
        if binary:
            with os.fdopen(fd, "wb") as fh:
                result = write(fh)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                result = write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        msg = f"cannot write {out}: {exc.strerror}"
        raise ResidencyError(msg) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result
