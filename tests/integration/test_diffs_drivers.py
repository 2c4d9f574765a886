import pytest
from tests.safety_drivers_diffs import DRIVERS

@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_driver(name, stack, fresh_db):
    settings, pg = DRIVERS[name](stack, fresh_db, None)
    rows = pg.fetch("SELECT action, outcome FROM console.audit_log WHERE action = %s", (name,))
    assert rows == [{"action": name, "outcome": "ok"}]
