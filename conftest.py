# The picacheck pytest plugin: the checks' kit (inventory, fixtures, parametrisation, the
# production guard, the hosts and their pre-flight, evidence, findings, parallel runs by host)
# and the report's hooks (claims matrix, summary.json, pytest-html's page).
pytest_plugins = ["picacheck.kit.plugin", "picacheck.report.pytest_hooks"]
