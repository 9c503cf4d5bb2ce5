"""The interactive API reference at ``/docs``, served from the package (never from a CDN).

FastAPI's own ``/docs`` and ``/redoc`` load Swagger UI and ReDoc from jsDelivr and start them
with an inline script, which the service's Content-Security-Policy forbids. Swagger UI
(npm ``swagger-ui-dist`` 5.35.0, Apache-2.0) ships in ``lvyue/api/static`` and starts from an
external ``docs-init.js``, so the page works offline under the same CSP as every other answer.
ReDoc is not served: one reference page is enough.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_PREFIX = "/api-static"

_PAGE = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>lvyue 履约 — API</title>
<link rel="stylesheet" href="{STATIC_PREFIX}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{STATIC_PREFIX}/swagger-ui-bundle.js"></script>
<script src="{STATIC_PREFIX}/docs-init.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets; the app must be built with ``docs_url=None``."""
    app.mount(STATIC_PREFIX, StaticFiles(packages=[("lvyue.api", "static")]), name="api-static")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(_PAGE)
