"""residency: what data lives where, under which law.

>>> import residency
>>> m = residency.load()            # the built-in demo organisation
>>> "US" in m.where("client:fennwerk").countries
True
"""

from typing import TYPE_CHECKING, Any

from residency._errors import InventoryError as InventoryError
from residency._errors import InventoryProblem as InventoryProblem
from residency._errors import ResidencyError as ResidencyError
from residency._errors import UnknownSubjectError as UnknownSubjectError
from residency._perf import serving as serving

__version__ = "0.1.0"

if TYPE_CHECKING:
    from residency.catalogue import vendors as vendors
    from residency.datamap import DataMap as DataMap
    from residency.datamap import load as load

_LAZY = {
    "DataMap": "residency.datamap",
    "load": "residency.datamap",
    "vendors": "residency.catalogue",
}


def __getattr__(name: str) -> Any:
    # Imported on first use, so ``residency --help`` does not load pandas and networkx.
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    msg = f"module 'residency' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "DataMap",
    "InventoryError",
    "InventoryProblem",
    "ResidencyError",
    "UnknownSubjectError",
    "__version__",
    "load",
    "serving",
    "vendors",
]
