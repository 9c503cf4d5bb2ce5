"""政策预演 against hostile uploads (issue 14 hostile review): each draft is refused with a
422 naming the uploaded file, never a 500,."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webkit import csrf_of, login

from lvyue.api.testing import ServiceWorld
from lvyue.sim import write_facts
from lvyue.web.security import LoginThrottle

DRAFT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "draft" / "pickup-72h.yaml"

pytestmark = pytest.mark.parametrize("service_backend", ["sqlite"], indirect=True, scope="module")


@pytest.fixture(scope="module")
def snapshot(service: ServiceWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("preview")
    write_facts(root / "facts", 500, 7, fmt="parquet", progress=False)
    patch = pytest.MonkeyPatch()
    patch.setenv("LVYUE_DIAGNOSIS_FACTS", str(root / "facts"))
    yield root
    patch.undo()


def _upload(service: ServiceWorld, name: str, body: bytes) -> Any:
    operator = login(service, "operator")
    token = csrf_of(operator.get("/console/rules").text)
    files = {"draft": (name, body, "application/yaml")}
    return operator.post("/console/rules/preview", data={"csrf_token": token}, files=files)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("deep.yaml", b"[" * 5000 + b"]" * 5000),  # used to raise RecursionError (500)
        ("deepmap.yaml", b"{a: " * 3000 + b"1" + b"}" * 3000),
        ("shallow.yaml", b"[" * 20 + b"]" * 20),  # the other side: an ordinary refusal
    ],
)
def test_a_deeply_nested_draft_is_refused_naming_the_upload(
    service: ServiceWorld, snapshot: Path, fresh_throttle: LoginThrottle, name: str, body: bytes
) -> None:
    answer = _upload(service, name, body)
    assert answer.status_code == 422, answer.text[:300]
    assert f"{name}: " in answer.text and "lvyue-draft-" not in answer.text


def test_an_uploaded_name_too_long_for_the_file_system_is_only_a_label(
    service: ServiceWorld, snapshot: Path, fresh_throttle: LoginThrottle
) -> None:
    long_name = "A" * 300 + ".yaml"  # used to raise OSError "File name too long" (500)
    answer = _upload(service, long_name, b"- 1\n")
    assert answer.status_code == 422, answer.text[:300]
    assert f"{long_name}: expected a mapping" in answer.text


def test_the_preview_judges_off_the_event_loop(
    service: ServiceWorld,
    snapshot: Path,
    fresh_throttle: LoginThrottle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A preview takes seconds: judged in a worker thread, it never holds the event loop that
    every other request of the service waits on (a hostile review found it did)."""
    import asyncio

    import lvyue.engine.preview as engine_preview

    loops: list[bool] = []
    original = engine_preview.preview

    def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            loops.append(True)
        except RuntimeError:
            loops.append(False)
        return original(*args, **kwargs)

    monkeypatch.setattr(engine_preview, "preview", watched)
    answer = _upload(service, "pickup-72h.yaml", DRAFT.read_bytes())
    assert answer.status_code == 200, answer.text[:300]
    assert loops == [False]
