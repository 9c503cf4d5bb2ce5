"""The one local PySpark session, for the engine's and the diagnosis's ``--engine spark``
(session time zone UTC; timestamps never cross: times are epoch seconds; the warehouse goes
to a temporary directory, see ENVIRONMENT-NOTES).

The driver's heap is fixed when the JVM starts, so it is set here, on the first session:
``LVYUE_SPARK_DRIVER_MEMORY`` (default 2g; ``PYSPARK_SUBMIT_ARGS`` works too); shuffle and
spill files go to ``LVYUE_SPARK_LOCAL_DIR`` (default: a fresh directory under the system's
temporary directory). The JVM's own output goes to a log file, and any failure of Spark
becomes one :class:`SparkError` line. docs/scaling.md gives the settings' reasons and numbers.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DRIVER_MEMORY = "2g"  # 1 M and 10 M orders on local[2]: nothing collected, nothing cached
# Shuffles start this wide and adaptive execution merges what is small: at 10 M orders four
# partitions (2 x cores) made each task sort millions of wide rows within the heap.
SHUFFLE_PARTITIONS = 64


class SparkError(RuntimeError):
    """Spark could not start or failed mid-run (the message is one line)."""


def spark_session(cores: int = 2, driver_memory: str | None = None) -> Any:
    """The shared local session (created once per process)."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is not None:
        return SparkSession.builder.getOrCreate()
    memory = driver_memory or os.environ.get("LVYUE_SPARK_DRIVER_MEMORY") or DRIVER_MEMORY
    warehouse = _private_dir("lvyue-spark-warehouse-")
    local = os.environ.get("LVYUE_SPARK_LOCAL_DIR") or _private_dir("lvyue-spark-local-")
    conf = SparkConf().setMaster(f"local[{cores}]").setAppName("lvyue").setAll([
        ("spark.driver.memory", memory),  # local mode: the driver is the executor
        ("spark.memory.offHeap.enabled", "false"),  # the heap is the one budget
        ("spark.local.dir", local),  # shuffle files and spills
        ("spark.sql.warehouse.dir", warehouse),
        ("spark.sql.session.timeZone", "UTC"),
        ("spark.ui.enabled", "false"),
        ("spark.ui.showConsoleProgress", "false"),
        ("spark.sql.shuffle.partitions", str(SHUFFLE_PARTITIONS)),
        ("spark.sql.adaptive.enabled", "true"),
        ("spark.sql.adaptive.coalescePartitions.enabled", "true"),
    ])  # fmt: skip
    fd, name = tempfile.mkstemp(prefix="lvyue-spark-", suffix=".log")
    log = Path(name)
    try:
        with os.fdopen(fd, "ab") as sink:  # the child keeps its own copy of the descriptor
            gateway = launch_gateway(conf, popen_kwargs={"stdout": sink, "stderr": sink})  # type: ignore[no-untyped-call]
        context = SparkContext(conf=conf, gateway=gateway)
    except Exception as exc:  # any failure to start is one line
        said = _jvm_said(log) or one_line(exc)
        raise SparkError(f"Spark did not start: {said} (JVM log: {log})") from exc
    context.setLogLevel("ERROR")
    return SparkSession(context)


def _private_dir(prefix: str) -> str:
    """A fresh temporary directory, removed when the process ends."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path


@contextmanager
def spark_errors() -> Iterator[None]:
    """Spark's and Py4J's exceptions inside the block become one SparkError line."""
    from py4j.protocol import Py4JError  # type: ignore[import-untyped]
    from pyspark.errors import PySparkException

    try:
        yield
    except (Py4JError, PySparkException, ConnectionError) as exc:
        raise SparkError(f"Spark failed: {one_line(exc)}") from exc


def one_line(exc: BaseException) -> str:
    """The Java exception's own message if there is one, else the first line of ``exc``."""
    java = getattr(exc, "java_exception", None)
    text = ""
    if java is not None:
        try:
            text = str(java.toString())
        except Exception:  # the JVM may be gone: use the Python text
            text = ""
    text = text or str(exc) or type(exc).__name__
    first = next((line.strip() for line in text.splitlines() if line.strip()), text)
    return first[:300]


def _jvm_said(log: Path) -> str:
    """The reason the JVM (or spark-submit) gave, e.g. "Could not reserve enough space for
    ... object heap" or "/usr/lib/jvm/x/bin/java: No such file or directory"."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    lines = [_SHELL.sub("", ln).strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln != "Error occurred during initialization of VM"] or lines
    return next((ln for ln in lines if _REASON.search(ln)), lines[0] if lines else "")[:200]


_SHELL = re.compile(r"^\S*: line \d+: ")  # bash's "script: line 71: " before its message
_REASON = re.compile(r"error|could not|invalid|no such file|not found", re.IGNORECASE)
