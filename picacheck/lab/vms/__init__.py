"""The container VMs: pica01, pica02 (Swarm, GlusterFS) and admin (the registry), as
Docker-in-Docker containers of the lab's own engine. See CONTAINERS.md.

    prepare() / up() / down() / status(out) / is_up() / inventory_section()   (every part's interface)
    reset()   a fresh lab without the cold build (keeps the engine and its images)
"""

from picacheck.lab.vms.lifecycle import down, is_up, prepare, reset, status, up
from picacheck.lab.vms.section import inventory_section

NAME = "container VMs"

__all__ = ["NAME", "prepare", "up", "down", "status", "is_up", "inventory_section", "reset"]
