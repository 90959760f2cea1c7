"""The cluster layer against the lab: green, then each fault breaks exactly the claims it
should (with evidence), and after each repair the layer is green again (issue: lab part 1)."""

import pytest

from picacheck.wait import eventually

pytestmark = pytest.mark.lab

SWARM_CLAIMS = ["C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11", "C12"]


def assert_green(run) -> None:
    broken = [claim for claim in SWARM_CLAIMS if run.verdict(claim) != "holds"]
    assert not broken, f"claims not holding: {[(c, run.verdict(c), run.evidence(c)[:300]) for c in broken]}\n{run.output[-3000:]}"


def green_again(run_layer):
    def layer_is_green():
        run = run_layer("cluster")
        assert_green(run)
        return run

    return eventually(layer_is_green, timeout=180, interval=5, what="the cluster layer green again")


def test_cluster_layer_is_green_on_the_lab(run_layer):
    assert_green(run_layer("cluster"))


def test_glusterd_stopped_on_pica02_breaks_c4_and_c5(run_layer, ssh):
    ssh("pica02", "service glusterd stop")
    try:
        run = run_layer("cluster", "-k", "gluster")
        assert run.verdict("C4") == "broken", run.output[-2000:]
        assert run.verdict("C5") == "broken", run.output[-2000:]
        assert "pica02" in run.evidence("C4") and "Disconnected" in run.evidence("C4")
        assert "pica02:/gluster-data" in run.evidence("C5")
    finally:
        ssh("pica02", "service glusterd start")
    green_again(run_layer)


def test_pica02_demoted_to_worker_breaks_c10(run_layer, ssh):
    ssh("pica01", "docker node demote pica02")
    try:
        # pica02 shows `unknown` for a moment while it leaves the raft: wait for the new state.
        eventually(lambda: ssh("pica01", "docker node inspect pica02 --format '{{.Status.State}} {{.Spec.Role}}'")
                   .strip() == "ready worker", timeout=60, interval=2, what="pica02 ready as a worker")
        run = run_layer("cluster", "-k", "swarm")
        assert run.verdict("C10") == "broken", run.output[-2000:]
        assert "pica02 is a worker, documented as a manager" in run.evidence("C10")
    finally:
        ssh("pica01", "docker node promote pica02")
    green_again(run_layer)


def test_image_missing_on_one_node_breaks_c12(run_layer, ssh):
    services = ssh("pica01", "docker service ls --format '{{.Image}}'").split()
    image = services[0].split("@")[0]
    ssh("pica02", f"docker image rm --force {image}")
    try:
        run = run_layer("cluster", "-k", "swarm")
        assert run.verdict("C12") == "broken", run.output[-2000:]
        assert "pica02" in run.evidence("C12") and image.split(":")[0] in run.evidence("C12")
    finally:
        ssh("pica02", f"docker pull {image}")
    green_again(run_layer)
