"""Section 6 of the report: the restore drill per database (restore/<database>.json):
how long a restore takes, how much data it would lose, what it restored, and whether the
report's own restore.sh does it (B9)."""

from __future__ import annotations

from picacheck.claims import Status
from picacheck.report.html_parts import badge, esc, evidence_details, plain_badge, table
from picacheck.report.rundir import RunFolder
from picacheck.report.truth import status_of

BACKUP_CLAIMS = ("B5", "B8", "B9")  # the ones the drill's figures speak to


def backups_section(run: RunFolder) -> str:
    claims = {c.get("id"): c for c in run.claims}
    verdicts = " · ".join(f"{esc(i)} {badge(status_of(claims[i]))}" for i in BACKUP_CLAIMS if i in claims)
    head = f"<p>{verdicts}</p>" if verdicts else ""
    if not run.restores:
        return (f'<section id="backups"><h2>Backups</h2>{head}<p>No restore drill ran in this run (the backup layer '
                "runs it: B5 and B9).</p></section>")
    rows = [_row(name, figures) for name, figures in run.restores.items()]
    overview = table(["Database", "Dump restored", "Restore time", "Recovery point (RPO)", "Tables", "Rows",
                      "Identical to live", "The report's restore.sh"], rows, "restores")
    details = "".join(_details(name, figures) for name, figures in run.restores.items())
    return (f'<section id="backups"><h2>Backups</h2>{head}<p>The restore drill restores each database\'s newest dump '
            f"into a scratch server and compares it with the live database.</p>{overview}{details}</section>")


def _row(name: str, figures: dict) -> list[str]:
    if "error" in figures:
        return [f"<b>{esc(name)}</b>", f'<span class="alert broken">the drill could not run: {esc(figures["error"])}</span>',
                "–", "–", "–", "–", "–", "–"]
    tables = [t for t in figures.get("tables", []) if isinstance(t, dict)]
    rpo = figures.get("rpo_s")
    return [
        f"<b>{esc(name)}</b>" + (f" <small>{esc(figures.get('engine'))}</small>" if figures.get("engine") != name else ""),
        f"<code>{esc(figures.get('dump'))}</code> ({esc(_size(figures.get('dump_bytes')))})"
        + ("" if figures.get("dump_complete") else " " + plain_badge("broken", "incomplete")),
        f"{_seconds(figures.get('restore_s'))} <small>(server start {_seconds(figures.get('server_start_s'))})</small>",
        "–" if rpo is None else f"{float(rpo) / 60:.1f} min",
        esc(len(tables)),
        esc(sum(int(t.get("dump_rows") or 0) for t in tables)),
        f"{sum(1 for t in tables if t.get('identical'))} of {len(tables)} tables",
        _script(figures.get("report_script")),
    ]


def _script(replay) -> str:
    if not isinstance(replay, dict):
        return "not replayed"
    if replay.get("succeeded") and not replay.get("differences"):
        return badge(Status.holds, "restores it")
    errors = [line for line in replay.get("output", []) if "error" in str(line).lower()]
    why = errors[0] if errors else "; ".join(replay.get("differences", [])[:2]) or "failed"
    return f"{badge(Status.broken, 'fails')} <small>{esc(why)}</small>"


def _details(name: str, figures: dict) -> str:
    if "error" in figures:
        return ""
    tables = table(["Table", "Rows in the dump", "Rows live", "Identical", "Note"], [
        [f"<code>{esc(t.get('name'))}</code>", esc(t.get("dump_rows")), esc(t.get("live_rows")),
         "yes" if t.get("identical") else f"no (+{esc(t.get('only_live'))}/-{esc(t.get('only_in_dump'))})",
         esc(t.get("note"))] for t in figures.get("tables", []) if isinstance(t, dict)], "tables")
    problems = figures.get("problems") or []
    alert = "".join(f"<p class='alert broken'>{esc(p)}</p>" for p in problems)
    replay = figures.get("report_script") if isinstance(figures.get("report_script"), dict) else {}
    script = evidence_details(["\n".join([f"$ {replay.get('command', '')}", *map(str, replay.get("output", []))])],
                              "The report's restore.sh, replayed") if replay else ""
    return (f"<h3>{esc(name)}</h3><p>{esc(figures.get('summary', ''))}</p>{alert}"
            f"<details><summary>Tables ({len(figures.get('tables', []))})</summary>{tables}</details>{script}")


def _seconds(value) -> str:
    return "–" if value is None else f"{float(value):.1f} s"


def _size(size) -> str:
    size = float(size or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
