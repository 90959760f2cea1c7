"""Monitoring: metricbeat ships through an autossh tunnel, Elasticsearch listens on loopback
only, Kibana on 5601, a daily curator job drops old indices (S11)."""

import pytest

from picacheck.facts.sockets import parse_endpoint
from picacheck.probes import system

CURATOR_JOB = "/etc/cron.daily/remove-elasticsearch-index"


@pytest.mark.claim("S11")
def test_shippers_run_metricbeat_through_autossh(hosts, monitoring):
    for shipper in monitoring.shippers:
        assert system.process_running(hosts[shipper], "metricbeat"), f"{shipper}: metricbeat is not running"
        assert system.process_running(hosts[shipper], "autossh"), f"{shipper}: no autossh tunnel to Elasticsearch"


@pytest.mark.claim("S11")
def test_elasticsearch_listens_on_loopback_only(hosts, monitoring):
    listening = system.listening_tcp(hosts[monitoring.host])
    for endpoint in monitoring.elasticsearch_listen:
        port = parse_endpoint(endpoint).port
        sockets = [socket for socket in listening if socket.port == port]
        assert sockets, f"{monitoring.host}: nothing listens on port {port}"
        exposed = [socket.endpoint for socket in sockets if not socket.loopback]
        assert not exposed, f"{monitoring.host}: Elasticsearch port {port} listens on {exposed}"


@pytest.mark.claim("S11")
def test_kibana_and_index_cleanup(hosts, monitoring):
    host = hosts[monitoring.host]
    ports = {socket.port for socket in system.listening_tcp(host)}
    assert monitoring.kibana_port in ports, f"{monitoring.host}: Kibana is not on {monitoring.kibana_port}"
    jobs = system.curator_jobs(host, CURATOR_JOB)
    assert jobs is not None, f"{monitoring.host}: no daily curator job ({CURATOR_JOB} does not exist)"
    days = monitoring.index_retention_days
    assert any(job.deletes_older_than(days) for job in jobs), (
        f"{monitoring.host}: {CURATOR_JOB} does not delete indices older than {days} days "
        f"(its curator commands: {[(job.action, job.age_filters) for job in jobs]})"
    )
