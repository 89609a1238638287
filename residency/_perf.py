"""Performance helpers shared by the bulk steps (reading, building, querying)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_one_shot = False
_serving = False


def one_shot() -> None:
    """Say that this process ends after one command (the CLI): keep bulk results frozen.

    After a bulk step, the objects it made stay alive to the end of the command. Left to
    the cyclic collector, each would be scanned again and again (at enterprise size, a
    single collection after the assessment takes seconds); frozen (:func:`gc.freeze`),
    they are never scanned, and still freed by reference counting. A long-running
    process (the app) never calls this: there, garbage cycles must stay collectable.
    """
    global _one_shot
    _one_shot = True


def serving() -> None:
    """Say that this process serves users for long, holding big maps (the app calls it).

    Then what a map caches (an assessment, a plan) is frozen (:func:`keep`). Left to the
    collector, an assessment's million objects would be scanned again at each full
    collection: 0.7 to 1.8 s at 100x the demo, charged to whichever page comes next.
    Not for a notebook: there, a cycle the user drops would wait for the map to drop an
    assessment before it is collected.
    """
    global _serving
    _serving = True


def keep() -> None:
    """Say that what the process holds now lives long (a map just cached an assessment).

    In a serving process (:func:`serving`) it is frozen (:func:`gc.freeze`): never
    scanned again, and still freed by reference counting when the map drops it, as an
    assessment holds no reference cycles (tests/test_perf.py checks it). A one-shot
    process has frozen it already; elsewhere (a notebook) nothing changes.
    """
    if _serving and not _one_shot:
        gc.freeze()


def release() -> None:
    """Say that something kept is being dropped: collect what was frozen and is garbage.

    Undoes :func:`keep` and runs one full collection, so that a cycle among what was
    frozen beside the dropped assessment (the app's own objects of that moment) is freed
    too; the next :func:`keep` freezes what is left alive. It costs one full collection
    each time a map drops an assessment (the ninth date browsed), which is what every
    new date used to cost.
    """
    if _serving and not _one_shot:
        gc.unfreeze()
        gc.collect()


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
            if _one_shot:
                gc.freeze()
            gc.enable()
