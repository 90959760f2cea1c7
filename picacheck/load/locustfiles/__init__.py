"""The locustfiles (run by locust, in child processes: importing them patches the standard
library with gevent, so nothing in the suite's own process imports this package's modules)."""
