"""residency: what data lives where, under which law.

>>> import residency
>>> m = residency.load()            # the built-in demo organisation
>>> "US" in m.where("client:fennwerk").countries
True
"""

from residency._errors import InventoryError as InventoryError
from residency._errors import InventoryProblem as InventoryProblem
from residency._errors import ResidencyError as ResidencyError
from residency._errors import UnknownSubjectError as UnknownSubjectError
from residency.datamap import DataMap as DataMap
from residency.datamap import load as load
from residency.vendors import vendors as vendors

__version__ = "0.1.0"

__all__ = [
    "DataMap",
    "InventoryError",
    "InventoryProblem",
    "ResidencyError",
    "UnknownSubjectError",
    "__version__",
    "load",
    "vendors",
]
