"""VF-8 abnormal indicators (指标异常) per merchant and product, and the graded measures they
lead to. docs/indicators.md."""

from lvyue.indicators.errors import IndicatorError
from lvyue.indicators.judge import Finding, Judged
from lvyue.indicators.run import Plan, evaluate, festival, rolling, span
from lvyue.indicators.source import Sources, build, load_tables

__all__ = [
    "Finding",
    "IndicatorError",
    "Judged",
    "Plan",
    "Sources",
    "build",
    "evaluate",
    "festival",
    "load_tables",
    "rolling",
    "span",
]
