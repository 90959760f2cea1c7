"""Documentation from reality: the inventory that a cluster's hosts show, and its drift from
the documented one (issue 19).

    run.discover(minimal, pool) -> Discovery     ask the hosts of a minimal inventory
    writer.render(tree, header) -> str           the YAML, with commented placeholders
    differ.differences(documented, found)        the drift, claim by claim (Difference rows)
    undiscoverable                               what hosts cannot show, and why (one table)

`hosts`, `cluster`, `services` and `backups` turn the probes' facts into inventory sections
(their `describe_*` are pure); `probes` holds the few readings the checks' probes lack;
`command` is what the CLI calls. Discovery only reads: every command it runs is a reading.
"""
