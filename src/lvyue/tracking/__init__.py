"""Carriers and tracking (快递与物流轨迹): the carrier registry, the canonical vocabulary,
the scan-text classifier and adapters for Kuaidi100 pushes and plain CSV.

>>> from lvyue.tracking import carrier, classify_scan
>>> carrier("zhongtong").name_zh
'中通快递'
>>> classify_scan("快件已到达【杭州转运中心】", "干线").value
'hub_arrival'
"""

from lvyue.tracking.carriers import (
    CARRIERS,
    Carrier,
    UnknownCarrierError,
    carrier,
    carrier_by_name,
    carrier_label,
    load_carriers,
)
from lvyue.tracking.csv_adapter import (
    TRACKING_COLUMNS,
    TrackingRow,
    TrackingRowError,
    parse_tracking_row,
    read_tracking_csv,
    tracking_record,
    write_tracking_csv,
)
from lvyue.tracking.kuaidi100 import (
    ACK,
    PushError,
    PushUpdate,
    SignatureError,
    decode_push,
    encode_push,
    parse_saved_push,
    push_sign,
    read_push_file,
    read_push_log,
)
from lvyue.tracking.scans import at_hub, classify_scan, hub_event, is_hub, scan_site, text_kind
from lvyue.tracking.statuses import Status, lookup_status, status_for, status_kind

__all__ = [
    "ACK",
    "CARRIERS",
    "TRACKING_COLUMNS",
    "Carrier",
    "PushError",
    "PushUpdate",
    "SignatureError",
    "Status",
    "TrackingRow",
    "TrackingRowError",
    "UnknownCarrierError",
    "at_hub",
    "carrier",
    "carrier_by_name",
    "carrier_label",
    "classify_scan",
    "decode_push",
    "encode_push",
    "hub_event",
    "is_hub",
    "load_carriers",
    "lookup_status",
    "parse_saved_push",
    "parse_tracking_row",
    "push_sign",
    "read_push_file",
    "read_push_log",
    "read_tracking_csv",
    "scan_site",
    "status_for",
    "status_kind",
    "text_kind",
    "tracking_record",
    "write_tracking_csv",
]
