"""Former home of the pytest plugin, kept only for chaos/conftest.py until it imports the
new names (then delete this file):

    picacheck.plugin.inventory_of            → picacheck.kit.inventory.inventory_of
    picacheck.plugin.default_inventory_path  → picacheck.kit.inventory.inventory_path_of(config)
                                               (the run's --inventory, else the default)

The plugin itself is picacheck/kit/plugin.py (the checks' kit) and
picacheck/report/pytest_hooks.py (the report's hooks), loaded by the root conftest.py.
"""

from picacheck.inventory.default import default_inventory_path  # noqa: F401
from picacheck.kit.inventory import inventory_of  # noqa: F401
