"""The API reference at /docs works offline: Swagger UI comes from the package, under the
same Content-Security-Policy as every other answer, and renders in a real chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from browser import CHROMIUM, CHROMIUM_ARGS, free_port
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from lvyue.api import create_app
from lvyue.store.migrate import upgrade


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'lvyue.db'}"
    upgrade(url)
    app = create_app(url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


def test_docs_page_names_only_packaged_assets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lvyue.db'}"
    upgrade(url)
    client = TestClient(create_app(url))
    page = client.get("/docs")
    assert page.status_code == 200
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self'
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text  # no absolute (CDN) address
    assert "<script>" not in page.text  # no inline script
    bundle = client.get("/api-static/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 1_000_000
    assert client.get("/redoc").status_code == 404  # ReDoc is not served (CDN only)


def test_docs_render_offline_in_chromium(base_url: str) -> None:
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on(
            "request",
            lambda r: None if r.url.startswith(base_url) else outside.append(r.url),
        )
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base_url}/docs", timeout=120_000)
        page.wait_for_selector(".swagger-ui .info .title", timeout=120_000)
        title = page.inner_text(".swagger-ui .info .title")
        operations = page.locator(".opblock").count()
        browser.close()
    assert "lvyue" in title
    assert operations > 20  # the service's endpoints are listed
    assert outside == []
    assert not [e for e in errors if "Content Security Policy" in e], errors
