"""The service fixtures live in ``lvyue.api.testing`` so that other test folders can re-export
them the same way (``from lvyue.api.testing import service, service_backend``)."""

from collections.abc import Iterator

import pytest

from lvyue.api.testing import ServiceWorld, service, service_backend

__all__ = ["ServiceWorld", "diagnosis_facts", "service", "service_backend"]


@pytest.fixture(scope="session", autouse=True)
def diagnosis_facts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Configure the diagnosis endpoints as in production (they read a facts directory named
    by LVYUE_DIAGNOSIS_FACTS), so that walking every route exercises them too."""
    from lvyue.sim import write_facts

    directory = tmp_path_factory.mktemp("diagnosis-facts")
    write_facts(directory, 300, 7, progress=False)
    patch = pytest.MonkeyPatch()
    patch.setenv("LVYUE_DIAGNOSIS_FACTS", str(directory))
    yield
    patch.undo()
