"""Monitoring: metricbeat ships through an autossh tunnel, Elasticsearch listens on loopback
only, Kibana on 5601, a daily curator job drops old indices (S11)."""

import pytest

from picacheck.probes import system


@pytest.mark.claim("S11")
def test_shippers_run_metricbeat_through_autossh(hosts, monitoring):
    for shipper in monitoring.shippers:
        assert system.process_running(hosts[shipper], "metricbeat"), f"{shipper}: metricbeat is not running"
        assert system.process_running(hosts[shipper], "autossh"), f"{shipper}: no autossh tunnel to Elasticsearch"


@pytest.mark.claim("S11")
def test_elasticsearch_listens_on_loopback_only(hosts, monitoring):
    listening = hosts[monitoring.host].check_output("ss -Hltn")
    for endpoint in monitoring.elasticsearch_listen:
        port = endpoint.rsplit(":", 1)[1]
        sockets = [line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(f":{port}")]
        assert sockets, f"{monitoring.host}: nothing listens on port {port}"
        exposed = [s for s in sockets if not s.startswith(("127.0.0.1:", "[::1]:"))]
        assert not exposed, f"{monitoring.host}: Elasticsearch port {port} listens on {exposed}"


@pytest.mark.claim("S11")
def test_kibana_and_index_cleanup(hosts, monitoring):
    host = hosts[monitoring.host]
    assert f":{monitoring.kibana_port} " in host.check_output("ss -Hltn") + " ", f"Kibana is not on {monitoring.kibana_port}"
    job = system.file_text(host, "/etc/cron.daily/remove-elasticsearch-index") or ""
    assert "delete_indices" in job and f'"unit_count":{monitoring.index_retention_days}' in job.replace(" ", ""), (
        f"{monitoring.host}: no daily curator job deleting indices older than {monitoring.index_retention_days} days"
    )
