"""Facts: reading and validating a facts directory (docs/formats.md) into typed Arrow tables."""

from lvyue.facts.convert import TIME_TYPE
from lvyue.facts.loader import BadRow, Facts, FactsError, load_facts, write_quarantine
from lvyue.facts.scan import Scan, scan_facts
from lvyue.facts.subset import load_orders
from lvyue.model.schema import TABLES, Column, Kind, TableSpec

__all__ = [
    "TABLES",
    "TIME_TYPE",
    "BadRow",
    "Column",
    "Facts",
    "FactsError",
    "Kind",
    "Scan",
    "TableSpec",
    "load_facts",
    "load_orders",
    "scan_facts",
    "write_quarantine",
]
