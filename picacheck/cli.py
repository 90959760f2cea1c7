"""The `picacheck` command: thin, it parses arguments and calls the rooms.

    picacheck verify [--inventory FILE] [--layer LAYER …]   run the verification suite
    picacheck plan --inventory FILE                        what would be checked (no connection)
    picacheck inventory check FILE                         validate an inventory
    picacheck chaos NAME [--dry-run]                        one chaos experiment
    picacheck load SERVICE [--max-users N] [--workers N]    capacity search under a step load
    picacheck lab up | status | down | reset               the embedded lab
    picacheck report diff A B | render RUN_DIR [--history F] compare two runs; re-render a run's report

Any problem the user can fix prints one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from picacheck import secrets
from picacheck.errors import EXIT_USER_ERROR, UserError
from picacheck.findings import FAIL_ON_CHOICES


def main(argv: list[str] | None = None) -> int:
    """Exit 0 (all good), 1 (a claim broken, an experiment refuted, a host unreachable),
    2 (a problem to fix before running: one line on stderr), 130/143 (interrupted)."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = secrets.ScrubbingStream(sys.stdout), secrets.ScrubbingStream(sys.stderr)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _dispatch(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)
        _flush_quietly()
        sys.stdout, sys.stderr = streams


def _dispatch(argv: list[str] | None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return EXIT_USER_ERROR
        return args.handler(args) or 0
    except UserError as error:
        _error(str(error))
        return EXIT_USER_ERROR
    except Terminated:
        _error("terminated (SIGTERM)")
        return 143
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # Python's advice: no second error at exit
        return 0
    except OSError as error:  # a full disk, an unwritable folder: the system's words, one line
        where = f" ({error.filename})" if getattr(error, "filename", None) else ""
        _error(f"{error.strerror or error}{where}")
        return EXIT_USER_ERROR
    except Exception as error:  # a bug: still one line, and the way to see more
        if os.environ.get("PICACHECK_DEBUG") == "1":
            raise
        _error(f"internal error: {type(error).__name__}: {str(error)[:300]} (PICACHECK_DEBUG=1 shows the traceback)")
        return EXIT_USER_ERROR


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is so that every `finally` (rollbacks, journals,
    the partial report) runs as on Ctrl-C."""


def _terminated(signum, frame):
    raise Terminated()


def _error(message: str) -> None:
    try:
        print(f"picacheck: error: {message}", file=sys.stderr, flush=True)
    except OSError:
        pass


def _flush_quietly() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _services(text: str) -> list[str]:
    services = [name.strip() for name in text.split(",") if name.strip()]
    if not services:
        raise argparse.ArgumentTypeError("expected SERVICE[,SERVICE…]")
    return services


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line and exit 2 (argparse's usage stays behind --help)."""

    def error(self, message: str):
        raise UserError(f"{self.prog}: {message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="picacheck", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(metavar="COMMAND", parser_class=_Parser)

    verify = commands.add_parser("verify", help="run the verification suite against an inventory")
    verify.add_argument("--inventory", help="inventory YAML (default: the embedded lab's)")
    verify.add_argument("--layer", action="append", choices=["hosts", "cluster", "services", "backup", "load"])
    verify.add_argument("--reports", default=None, help="where run folders go (default: reports/ of the clone)")
    verify.add_argument("--history", default=None, metavar="FILE",
                        help="the history of the runs' verdicts (default: history.jsonl in the reports folder; "
                             "give a file that CI keeps between nights)")
    verify.add_argument("--chaos", action="store_true",
                        help="also run the chaos experiments (chaos/) after the layers: they break the target on purpose")
    verify.add_argument("--allow-production", action="store_true",
                        help="allow a production inventory (reading; with --chaos or the load layer, you also type "
                             "its name to confirm)")
    verify.add_argument("--fail-on", choices=FAIL_ON_CHOICES, default=None,
                        help="findings at or above this severity fail the run (exit 1); default: none on a lab "
                             "(its findings are the documentation's), high on staging and production")
    verify.add_argument("--with-load", type=_services, default=None, metavar="SERVICE[,SERVICE…]",
                        help="with --chaos: these services' users run during every experiment (game day, X8)")
    verify.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    verify.set_defaults(handler=_verify)

    plan = commands.add_parser("plan", help="list the checks that would run, per host and claim, connecting to nothing")
    plan.add_argument("--inventory", required=True)
    plan.set_defaults(handler=_plan)

    inventory = commands.add_parser("inventory", help="inventory tools")
    inventory_commands = inventory.add_subparsers(metavar="ACTION", parser_class=_Parser)
    check = inventory_commands.add_parser("check", help="validate an inventory file")
    check.add_argument("file")
    check.set_defaults(handler=_inventory_check)

    chaos = commands.add_parser("chaos", help="run one chaos experiment (see chaos/)")
    chaos.add_argument("name", help="experiment name, e.g. fail-disk, kill-service-node")
    chaos.add_argument("--inventory", help="inventory YAML (default: the embedded lab's)")
    chaos.add_argument("--dry-run", action="store_true", help="print the plan, touch nothing")
    chaos.add_argument("--allow-production", action="store_true",
                       help="allow a production inventory (you will type its name to confirm)")
    chaos.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                       help="experiment option, e.g. --option victim=pica01")
    chaos.add_argument("--reports", default=None, help="where run folders go (default: reports/ of the clone)")
    chaos.add_argument("--manual-fault", action="store_true",
                       help="the fault is made by hand (a hypervisor's power through vPro, a disk pulled): you are "
                            "told what to do and when, on the terminal; the rest runs and is journaled as usual")
    chaos.add_argument("--with-load", type=_services, default=None, metavar="SERVICE[,SERVICE…]",
                       help="game day: these services' users run at their SLO's pace during the whole experiment; "
                            "the journal and the timeline carry the users' view (X8)")
    chaos.set_defaults(handler=_chaos)

    load = commands.add_parser(
        "load", help="capacity search of one service: step load until its SLO breaks (locust)",
        description="Raise the simulated users step by step (locust, headless, bounded) and report the highest "
                    "user count and throughput that still meet the service's SLO from the inventory. Distributed: "
                    "--workers N local worker processes; for workers on other machines, start this with "
                    "--remote-workers M --master-bind ADDRESS [--master-port P], and on each of them run "
                    "`picacheck load SERVICE --worker --master-host ADDRESS [--master-port P]`.")
    load.add_argument("service", help="a service name (or domain) of the inventory, e.g. etherpad")
    load.add_argument("--inventory", help="inventory YAML (default: the embedded lab's)")
    load.add_argument("--max-users", type=int, help="users of the last step (default: 3 × the SLO's users)")
    load.add_argument("--step-users", type=int, help="users added at each step (default: max-users / 6)")
    load.add_argument("--step-seconds", type=float, default=15.0, help="length of a step (default: 15)")
    load.add_argument("--workers", type=int, default=0, help="local locust worker processes (default: 0, one process)")
    load.add_argument("--remote-workers", type=int, default=0, help="workers the master also waits for from other machines")
    load.add_argument("--master-bind", default="127.0.0.1", help="address the master listens on (remote workers)")
    load.add_argument("--master-port", type=int, help="the master's port (default: free port; 5557 with remote workers)")
    load.add_argument("--worker", action="store_true", help="run only a worker of a master elsewhere (needs --master-host)")
    load.add_argument("--master-host", help="with --worker: the master's address")
    load.add_argument("--p95-ms", type=float, help="override the SLO's p95 objective (ms)")
    load.add_argument("--max-failure-ratio", type=float, help="override the SLO's failure ratio objective")
    load.add_argument("--min-rps", type=float, help="override the SLO's minimum throughput")
    load.add_argument("--no-stop-on-breach", action="store_true", help="run every step even after the SLO broke")
    load.add_argument("--reports", default=None, help="where run folders go (default: reports/ of the clone)")
    load.add_argument("--allow-production", action="store_true",
                      help="allow a production inventory (you will type its name to confirm)")
    load.set_defaults(handler=_load)

    report = commands.add_parser("report", help="compare two runs, or re-render a run folder's report")
    report_commands = report.add_subparsers(metavar="ACTION")
    diff = report_commands.add_parser("diff", help="what changed from run A to run B (exit 0: nothing, 1: something)")
    diff.add_argument("a", help="the earlier run: a run folder or its summary.json")
    diff.add_argument("b", help="the later run: a run folder or its summary.json")
    diff.set_defaults(handler=lambda args: _report().diff_command(args.a, args.b))
    render = report_commands.add_parser("render", help="write report.html and summary.md of a run folder again")
    render.add_argument("run_dir")
    render.add_argument("--history", help="history file (default: history.jsonl beside the run folder)")
    render.set_defaults(handler=lambda args: _report().render_command(args.run_dir, args.history))

    lab = commands.add_parser("lab", help="the embedded lab")
    lab.add_argument("action", choices=["up", "status", "down", "reset"])
    lab.set_defaults(handler=_lab)
    return parser


def _verify(args: argparse.Namespace) -> int:
    from picacheck import run

    return run.verify(inventory_path=args.inventory, layers=args.layer, reports_root=args.reports,
                      extra=args.pytest_args, with_chaos=args.chaos, fail_on=args.fail_on,
                      allow_production=args.allow_production, history=args.history, with_load=args.with_load)


def _chaos(args: argparse.Namespace) -> int:
    from picacheck import run

    options = {}
    for option in args.option:
        key, sep, value = option.partition("=")
        if not sep or not key:
            raise UserError(f"--option {option!r}: expected KEY=VALUE")
        options[key] = value
    return run.chaos(args.name, args.inventory, args.dry_run, args.allow_production, options, args.reports,
                     manual_fault=args.manual_fault, with_load=args.with_load)


def _load(args: argparse.Namespace) -> int:
    from picacheck import run
    from picacheck.load.command import SearchOptions

    if args.worker != bool(args.master_host):
        raise UserError("--worker and --master-host go together (this machine as a worker of that master)")
    options = SearchOptions(
        max_users=args.max_users, step_users=args.step_users, step_seconds=args.step_seconds, workers=args.workers,
        remote_workers=args.remote_workers, master_bind=args.master_bind, master_port=args.master_port,
        p95_ms=args.p95_ms, max_failure_ratio=args.max_failure_ratio, min_rps=args.min_rps,
        stop_on_breach=not args.no_stop_on_breach)
    return run.load(args.service, args.inventory, options, args.reports, master_host=args.master_host,
                    master_port=args.master_port, allow_production=args.allow_production)


def _plan(args: argparse.Namespace) -> int:
    from picacheck import run

    print(run.plan(args.inventory))
    return 0


def _inventory_check(args: argparse.Namespace) -> int:
    from picacheck.inventory import load_inventory

    inventory = load_inventory(args.file)
    print(
        f"{args.file}: OK: {inventory.environment.name} ({inventory.environment.kind.value}), "
        f"{len(inventory.hosts)} hosts, {len(inventory.services)} services"
    )
    return 0


def _report():
    from picacheck.report import commands

    return commands


def _lab(args: argparse.Namespace) -> int:
    from picacheck.lab import whole

    if args.action == "status":
        return 0 if whole.status() else 1  # it prints one line per host and daemon
    {"up": whole.up, "down": whole.down, "reset": whole.reset}[args.action]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
