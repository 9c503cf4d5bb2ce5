"""Logistics diagnosis 物流诊断 (LD-1..LD-11).

Data flows one way: facts → ``source`` (one Ibis table of shipments) → ``metrics`` →
capability, weekly ``governance`` (+ ``state``), ``peers``, ``settlement``, ``conversion``,
``score``, ``growth`` → ``diagnose``. ``reachability`` is the carriers' coverage model.
Every analysis is an Ibis expression, so it runs on DuckDB (default) or PySpark.
"""

from lvyue.diagnosis.conversion import ConversionGain, ConversionModel
from lvyue.diagnosis.diagnose import ControlledUsage, Diagnosis, TopicAnalysis, diagnose
from lvyue.diagnosis.errors import CoverageError, DiagnosisError
from lvyue.diagnosis.export import export_rows
from lvyue.diagnosis.governance import Finding, compute_week, outlet_week, route_week
from lvyue.diagnosis.growth import SOLUTIONS, Recommendation, known_merchants, sign_up, sign_ups
from lvyue.diagnosis.metrics import METRICS, Metric
from lvyue.diagnosis.peers import PEER_METRICS, PeerStanding
from lvyue.diagnosis.period import Period
from lvyue.diagnosis.reachability import (
    AddressVerdict,
    CoverageRule,
    carrier_codes,
    export,
    load_coverage,
    query_address,
    query_region,
    read_coverage,
    restricted_list,
)
from lvyue.diagnosis.settlement import Gain, SettlementModel, Targets
from lvyue.diagnosis.source import ShipmentSource, build
from lvyue.diagnosis.state import EntityState, GovernanceState, WeekReport
from lvyue.diagnosis.thresholds import Thresholds, from_rulebook
from lvyue.diagnosis.weeks import parse_week, week_label
from lvyue.diagnosis.workflow import (
    connect,
    default_period,
    diagnose_facts,
    fail,
    load_source,
    parse_day,
    parse_weeks,
    run_week,
)
from lvyue.facts import FactsError
from lvyue.model.time import BEIJING
from lvyue.rulebook import RulebookError

ERRORS = (DiagnosisError, FactsError, RulebookError)
WARNING_COLUMNS = ("week", "kind", "key", "volume", "breached")


def metric_label(column: str) -> str:
    """Chinese label of a peer-comparison column (e.g. ``on_time_rate``)."""
    name = dict(PEER_METRICS)[column]
    return next(m.label for m in METRICS if m.name == name)


def format_column(column: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} h" if column.endswith("_h_avg") else f"{value:.1%}"


__all__ = [
    "BEIJING",
    "ERRORS",
    "METRICS",
    "SOLUTIONS",
    "WARNING_COLUMNS",
    "AddressVerdict",
    "ControlledUsage",
    "ConversionGain",
    "ConversionModel",
    "CoverageError",
    "CoverageRule",
    "Diagnosis",
    "DiagnosisError",
    "EntityState",
    "Finding",
    "Gain",
    "GovernanceState",
    "Metric",
    "PeerStanding",
    "Period",
    "Recommendation",
    "SettlementModel",
    "ShipmentSource",
    "Targets",
    "Thresholds",
    "TopicAnalysis",
    "WeekReport",
    "build",
    "carrier_codes",
    "compute_week",
    "connect",
    "default_period",
    "diagnose",
    "diagnose_facts",
    "export",
    "export_rows",
    "fail",
    "format_column",
    "from_rulebook",
    "known_merchants",
    "load_coverage",
    "load_source",
    "metric_label",
    "outlet_week",
    "parse_day",
    "parse_week",
    "parse_weeks",
    "query_address",
    "query_region",
    "read_coverage",
    "restricted_list",
    "route_week",
    "run_week",
    "sign_up",
    "sign_ups",
    "week_label",
]
