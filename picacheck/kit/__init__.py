"""The checks' kit: what a check under tests/ uses besides the probes and the inventory.

    from picacheck.kit.applicability import not_applicable   # the claim cannot be shown here

Fixtures (no import needed): `inventory`, `hosts`, `grant`, `evidence_note`, `finding`,
`attach_to_html`, the inventory's sections (`corosync`, `swarm`, `traefik`, `registry`,
`monitoring`, `vzdump`) and the parameters of picacheck/kit/params.py (`hypervisor`, …).
The pytest plugin that provides them is picacheck/kit/plugin.py, one module per idea.
"""
