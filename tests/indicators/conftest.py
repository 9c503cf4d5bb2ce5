"""The indicator tests import their small facts builder (helpers.py) by name."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lvyue.api.testing import ServiceWorld, service, service_backend

__all__ = ["ServiceWorld", "service", "service_backend"]
