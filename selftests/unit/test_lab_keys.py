"""The lab's certificates: made once, made again when the names they must carry change (a lab
made by an older picacheck, whose registry had another address, must not fail its TLS)."""

from picacheck.lab import keys


def _issue(tmp_path, ips):
    return keys.issue(tmp_path / "server.crt", tmp_path / "server.key", "registry.test",
                      ["registry.test"], ips)


def test_a_certificate_is_kept_while_its_names_are_right_and_remade_when_they_change(tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "CA_CERT", tmp_path / "ca.crt")
    monkeypatch.setattr(keys, "CA_KEY", tmp_path / "ca.key")
    monkeypatch.setattr(keys, "REGISTRY_CERT", tmp_path / "unused.crt")
    keys.ensure_ca()
    assert _issue(tmp_path, ["172.30.42.10"]) is True
    first = (tmp_path / "server.crt").read_bytes()
    assert _issue(tmp_path, ["172.30.42.10"]) is False
    assert (tmp_path / "server.crt").read_bytes() == first
    assert _issue(tmp_path, ["172.30.42.10", "172.30.42.2"]) is True
    assert (tmp_path / "server.crt").read_bytes() != first
