"""The service fixtures live in ``lvyue.api.testing`` so that other test folders can re-export
them the same way (``from lvyue.api.testing import service, service_backend``)."""

from lvyue.api.testing import ServiceWorld, service, service_backend

__all__ = ["ServiceWorld", "service", "service_backend"]
