"""The restore drill runs once per database per run: B5 (the newest dump restores and
matches) and B9 (the report's restore.sh restores it) read the same drill."""

import pytest

from picacheck.probes import restore


@pytest.fixture(scope="session")
def restore_drills(hosts, inventory):
    """The drill of a dump policy, run on first use and kept for the run (a drill that could
    not run is kept as its error, so that both of its checks fail with it)."""
    done: dict[str, restore.DrillResult | AssertionError] = {}

    def drill(policy) -> restore.DrillResult:
        if policy.database not in done:
            try:
                done[policy.database] = restore.restore_drill(hosts, inventory, policy)
            except AssertionError as error:
                done[policy.database] = error
        result = done[policy.database]
        if isinstance(result, AssertionError):
            raise AssertionError(str(result))
        return result

    return drill
