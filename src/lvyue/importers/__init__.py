"""Imports (数据导入): platform order exports and open-platform order details into facts
``orders``/``inspections``, and saved Kuaidi100 pushes and tracking CSVs into facts
``tracking``.

Every importer rejects a bad row with an error naming the file, row and field; with
``skip_bad`` the row goes to ``quarantine_<table>.csv`` instead, and
``read == imported + quarantined``.
"""

from lvyue.importers.douyin_export import (
    CategoryEntry,
    ExportOptions,
    decode_text,
    order_from_export,
    read_category_map,
)
from lvyue.importers.errors import FileRejected, RowError
from lvyue.importers.open_platform import OpenPlatformOptions, facts_from_order
from lvyue.importers.records import INSPECTION_COLUMNS, ORDER_COLUMNS, UNCATEGORISED
from lvyue.importers.run import (
    ImportResult,
    import_douyin_export,
    import_kuaidi100,
    import_open_platform,
    import_tracking_csv,
)

__all__ = [
    "INSPECTION_COLUMNS",
    "ORDER_COLUMNS",
    "UNCATEGORISED",
    "CategoryEntry",
    "ExportOptions",
    "FileRejected",
    "ImportResult",
    "OpenPlatformOptions",
    "RowError",
    "decode_text",
    "facts_from_order",
    "import_douyin_export",
    "import_kuaidi100",
    "import_open_platform",
    "import_tracking_csv",
    "order_from_export",
    "read_category_map",
]
