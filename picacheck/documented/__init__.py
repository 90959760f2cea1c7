"""What the hand-over report prints, kept as data, read by everyone who needs it.

- `<image>.run.sh`: the dump jobs' run.sh of section 14 (tutum's mysql-backup and the
  Picasoft team's PostgreSQL adaptation), as the report prints it. The lab builds its dump
  images with them; the restore drill replays the restore.sh they write (claim B9).
"""

from __future__ import annotations

from importlib import resources

BACKUP_IMAGES = {"mysql": "mysql-backup", "postgresql": "postgres-backup"}
RESTORE_START = 'echo "=> Creating restore script"'
RESTORE_END = "chmod +x /restore.sh"


def backup_run_script(image: str) -> str:
    """The report's run.sh of a dump image (`mysql-backup`, `postgres-backup`)."""
    return resources.files("picacheck.documented").joinpath(f"{image}.run.sh").read_text(encoding="utf-8")


def restore_script_maker(engine: str) -> str:
    """The part of the engine's run.sh that writes /restore.sh (from its "Creating restore
    script" line to its chmod), to be run with the server's address in the variables."""
    text = backup_run_script(BACKUP_IMAGES[engine])
    start = text.index(RESTORE_START)
    end = text.index(RESTORE_END, start) + len(RESTORE_END)
    return text[start:end] + "\n"
