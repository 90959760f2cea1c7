"""The checks' kit as a pytest plugin (the root conftest.py loads it, with the report's hooks
in picacheck/report/pytest_hooks.py). Each module below is a plugin of its own:

    layers         layer markers from the folders (tests/<layer>/), `claim(…)`
    applicability  `not_applicable(reason)`: the typed "not applicable here"
    inventory      --inventory, the `inventory` fixture and one per section (`swarm`, …)
    params         parametrisation from the inventory (`hypervisor`, `swarm_node`, …)
    grant          the production guard: what this run may do to its environment
    hosts          the `hosts` fixture (one SSH connection per host), the pre-flight
    evidence       `evidence_note`, `finding`, the commands shown when a check fails
    html           `attach_to_html`: pictures and links in pytest-html's page
    parallel       checks of different hosts at once (pytest-xdist), a host's in order
    scrubbing      what a worker read as secret is masked in what it sends and writes
"""

# Each after the modules it imports: pytest rewrites the asserts of a plugin module it
# imports itself, and warns about one imported before.
pytest_plugins = [
    "picacheck.kit.layers",
    "picacheck.kit.applicability",
    "picacheck.kit.inventory",
    "picacheck.kit.params",
    "picacheck.kit.grant",
    "picacheck.kit.hosts",
    "picacheck.kit.evidence",
    "picacheck.kit.html",
    "picacheck.kit.parallel",
    "picacheck.kit.scrubbing",
]
