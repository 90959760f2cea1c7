"""The load room: locustfiles per kind of service, SLO evaluation, capacity search.

    locustfiles/   etherpad.py, chat.py (Matrix), wiki.py, static.py: plain `locust -f` works;
                   common.py (options, node pinning, certificate verification), stepload.py
    slo.py         measured figures vs the inventory's Slo (pure); the lab's proposed SLOs
    results.py     locust's CSV read back (pure)
    capacity.py    step plan, per-step figures, capacity within SLO (pure)
    target.py      inventory → what a run aims at (name, nodes, CA, scenario, secret files)
    runner.py      locust as child processes, bounded; SLO runs and capacity searches
    chart.py       PNG charts (history of a run; capacity per step)
    command.py     `picacheck load SERVICE` (capacity search, remote workers)

Locust monkey-patches the standard library with gevent when imported: only the locustfiles
import it, and they run in child processes, never in the suite's process. See README.md.
"""
