"""The lab's services: DNS, ACME CA, Traefik, databases and applications (issue 5).

    prefetch()            start the host downloads (PyPI, npm) in the background, e.g. first
                          thing in a whole-lab `up`, so that they overlap building the nodes
    up()                  bring them up on a running lab (idempotent); returns the changed steps
    status(out=None)      print and return their state (dict with "ok")
    down(images=False, purge=False)
                          remove them (services, secrets, data on /DATA, DNS and CA, files)
    remove_files(purge=False)
                          only this part's files on the host (for the lab's own down)
    lab_service_facts()   what the lab inventory needs (DNS server, domains, health paths,
                          databases and their password files, CA file, ports, images)

See plan.py for the layout, manage.py for the steps.
"""

from picacheck.lab.services.build import prefetch
from picacheck.lab.services.facts import lab_service_facts
from picacheck.lab.services.manage import down, remove_files, status, up

__all__ = ["prefetch", "up", "status", "down", "remove_files", "lab_service_facts"]
