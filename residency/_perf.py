"""Performance helpers shared by the bulk steps (reading, building, querying)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while a step allocates millions of small objects.

    The objects built (models, graph dicts, locations) hold no reference cycles that need
    collecting mid-step; without this, repeated full collections make a 100,000-staff
    inventory about 40% slower.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
