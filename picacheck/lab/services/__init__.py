"""The public services: DNS, ACME CA, Traefik, the databases and the applications, on the
Swarm of the container VMs. See plan.py for the layout, lifecycle.py for the steps.

    prepare() / up() / down() / status(out) / is_up() / inventory_section()   (every part's interface)
    down(images=True, purge=True)   also the images (registry, nodes) and the download cache
"""

from picacheck.lab.services.lifecycle import down, is_up, prepare, status, up
from picacheck.lab.services.section import inventory_section

NAME = "public services"

__all__ = ["NAME", "prepare", "up", "down", "status", "is_up", "inventory_section"]
