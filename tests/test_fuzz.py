"""Mutated inventories: a valid result or located problems, never an escaped exception.

A bounded hypothesis run in the suite; ``make fuzz`` runs >= 10,000 cases through the CLI.
"""

from __future__ import annotations

import json
import random
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from residency import InventoryError
from residency.datamap import DataMap
from residency.inventory import read_inventory, read_upload
from residency.limits import Limits

from . import fuzzing

# Small limits keep each case fast; the limits themselves are what is being exercised.
LIMITS = Limits(file_mb=2, entries=2_000, list_items=1_000, aliases=2_000)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
BASES = fuzzing.base_inventories()


def _promise(call) -> None:
    started = time.perf_counter()
    error: InventoryError | None = None
    try:
        inventory = call()
    except InventoryError as exc:
        error = exc
    if error is None:
        m = DataMap.from_inventory(inventory)
        json.loads(m.export_text())
        m.export_text(fmt="csv")
        m.transfers().to_csv()
    else:
        assert error.problems
        assert not fuzzing.unlocated(error.problems), error.problems[:3]
        assert len(str(error)) < 20_000
    assert time.perf_counter() - started < 10


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), base=st.sampled_from([0, 1]), count=st.integers(1, 3))
def test_mutated_folders_keep_the_promise(tmp_path_factory, seed, base, count):
    files = fuzzing.mutate(random.Random(seed), dict(BASES[base]), count)
    folder = fuzzing.write(tmp_path_factory.mktemp("fuzz"), files)
    _promise(lambda: read_inventory(folder, limits=LIMITS))


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 3))
def test_mutated_uploads_keep_the_promise(seed, count):
    import io
    import zipfile

    rng = random.Random(seed)
    files = fuzzing.mutate(rng, dict(BASES[0]), count)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"org/{name}", data)
    _promise(lambda: read_upload("org.zip", buffer.getvalue(), limits=LIMITS))
