"""A local PySpark session for ``--engine spark`` (timestamps never cross: times are epoch
seconds; the warehouse goes to a temporary directory, see ENVIRONMENT-NOTES)."""

from __future__ import annotations

import tempfile
from typing import Any


def spark_session(cores: int = 2) -> Any:
    """The shared local session (created once per process)."""
    from pyspark.sql import SparkSession

    warehouse = tempfile.mkdtemp(prefix="lvyue-spark-warehouse-")
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("lvyue")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config("spark.driver.memory", "2g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
