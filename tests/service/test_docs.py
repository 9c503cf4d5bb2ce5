"""docs/service.md shows the permission matrix the code enforces."""

from __future__ import annotations

from pathlib import Path

from lvyue.store.permissions import GRANTABLE, PERMISSIONS, ROLE_PERMISSIONS, Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def test_documented_matrix_matches_the_code() -> None:
    rows = [
        line
        for line in DOC.read_text("utf-8").splitlines()
        if line.startswith("| `") and ":" in line
    ]
    documented = {}
    for line in rows:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 2 + len(Role):
            documented[cells[0].strip("`")] = cells[2:]
    assert set(documented) == set(PERMISSIONS)
    for permission, cells in documented.items():
        for role, cell in zip(Role, cells, strict=True):
            holds = permission in ROLE_PERMISSIONS[role]
            grantable = role is Role.MERCHANT_SUB and permission in GRANTABLE
            assert cell == ("✓" if holds else "grantable" if grantable else ""), (permission, role)
