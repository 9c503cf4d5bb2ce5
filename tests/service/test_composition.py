"""Issue 11 item 5: capabilities plug their hooks in explicitly, in create_app and the worker,
never as a side effect of an import; shipping without them refuses instead of skipping the
rules. Run in a fresh interpreter: the registries are process-wide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import lvyue.api.routes_kuaidi100, lvyue.store.shipping, lvyue.workflows, lvyue.workflows.hooks
from lvyue.store import hooks
from lvyue.store.write import _REPLAYERS
print("after import:", len(hooks._SHIP_CHECKS), len(hooks.sweeps()), len(_REPLAYERS))
try:
    hooks.ship_checks()
except hooks.HooksNotRegistered:
    print("ship_checks refused")
from lvyue.api import create_app
from lvyue.store import upgrade
upgrade(URL)
create_app(URL).state.engine.dispose()
print("after create_app:", len(hooks.ship_checks()), len(hooks.sweeps()), len(_REPLAYERS))
"""


def test_importing_registers_nothing_and_create_app_registers_everything(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    run = subprocess.run(
        [sys.executable, "-c", f"URL = {url!r}\n" + SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "after import: 0 0 0"
    assert lines[1] == "ship_checks refused"
    assert lines[2] == "after create_app: 1 6 1"
