# The picacheck pytest plugin: inventory, hosts, layers, claims and the claims matrix.
pytest_plugins = ["picacheck.plugin"]
