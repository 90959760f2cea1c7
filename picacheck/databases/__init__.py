"""The databases of the inventory, in one room:

- `engines`: what differs between MySQL and PostgreSQL (quoting, the client, checksums);
- `live`: a live database, a Swarm service reached inside its task's container;
- `dumps`: the dumps of a policy (newest complete, when it began) and feeding one back.

The restore drill (picacheck/restore) and the database experiments (chaos/kill_db_container.py,
chaos/lose_database.py, with their canary in picacheck/chaos/canary.py) are built on it.
"""
