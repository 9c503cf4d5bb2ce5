"""The web console (商家后台 + 运营后台): server-rendered pages over the service's own
workflows, engine and store, mounted at ``/console`` by ``lvyue.api.create_app``.

No business rule lives here: pages call the functions the API routes call, and check the
API's permissions (``lvyue.store.permissions``) on the API's ``Principal``."""

from lvyue.web.app import mount_console

__all__ = ["mount_console"]
