"""The production factory (``uvicorn --factory lvyue.api.app:serve_app``) builds the app from
the environment and freezes the heap it built (``freeze_heap``: full garbage collections then
skip it; docs/decisions/service-fast-path.md). In a process of its own: a frozen test process
would keep every app the tests build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lvyue.store import upgrade

_PROBE = """
import gc
from lvyue.api.app import serve_app
before = gc.get_freeze_count()
app = serve_app()
print(before, gc.get_freeze_count(), app.title)
"""


def test_serve_app_builds_from_the_environment_and_freezes_its_heap(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lvyue.db'}"
    upgrade(url)
    env = {**os.environ, "LVYUE_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, after, title = done.stdout.split(maxsplit=2)
    assert int(before) == 0 and int(after) > 100_000  # the modules, the rulebook, the app
    assert title.strip() == "lvyue 履约"
