"""L1: each public service holds its documented load (the inventory's `slo`: users,
duration, minimum throughput) within its latency and error objectives.

Locust runs headless, bounded by the SLO's duration, through Traefik over HTTPS with the
service's real name and certificate, its users spread over the nodes of the DNS round
robin. The measured figures go to the claims matrix; the chart and locust's own report to
the HTML report.
"""

import pytest

from picacheck.errors import UserError
from picacheck.load import runner
from picacheck.load.target import NoScenario, target_for
from picacheck.kit.inventory import inventory_path_of


@pytest.mark.claim("L1")
def test_service_holds_its_documented_load_within_its_slo(request, inventory, grant, service, load_dir, evidence_note,
                                                          attach_load_report):
    if service.slo is None:
        pytest.skip(f"not checked: the inventory documents no SLO (load objectives) for {service.name}")
    try:
        target = target_for(inventory, service, inventory_path_of(request.config), grant=grant)
    except NoScenario as reason:
        pytest.skip(f"not checked: {reason}")
    except UserError as reason:  # e.g. a secret file the scenario needs is missing
        pytest.skip(f"not checked: {service.name}: {reason}")
    run = runner.run_slo(target, service.slo, load_dir / service.name)
    evidence_note(run.evidence())
    attach_load_report(run)
    if not run.verdict.ok:
        pytest.fail(f"{service.name} misses its SLO: {run.verdict.message()}", pytrace=False)
