"""Two handlers in two processes move the same complaint at once: one wins, the other gets a
conflict, and no update is lost (the version column)."""

from __future__ import annotations

import json
import subprocess
import sys

#: One handler: look at the complaint, say "ready", wait for "go", then move it with the version seen.
HANDLER = r"""
import json, sys
from datetime import datetime, timezone
from kehu_core.app import Kehu
from kehu_core.errors import Conflict
from kehu_complaints import api, records

url, complaint_id, target, actor = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
app = Kehu(url)
with app.session() as s:
    seen = records.get_complaint(s, complaint_id).version
print("ready", flush=True)
sys.stdin.readline()
try:
    with app.session() as s:
        api.move(app, s, complaint_id, target, actor, expected_version=seen, note=f"moved by {actor}",
                 reason="重复投诉", now=datetime.now(timezone.utc))
    print(json.dumps([actor, "won", None]))
except Conflict as exc:
    print(json.dumps([actor, "conflict", str(exc)]))
app.dispose()
"""


def test_two_processes_one_wins_one_conflicts(app, h):
    c = h.open_one(app, "2025-03-03 09:00")
    url = app.engine.url.render_as_string(hide_password=False)
    app.dispose()  # no connection of ours holds a lock while the handlers run
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HANDLER, url, str(c.id), target, actor],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for target, actor in (("acknowledged", "王芳"), ("rejected", "刘洋"))
    ]
    try:
        for p in procs:  # both have read version 1 before either moves
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        outcomes = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            p.kill()
    assert sorted(o[1] for o in outcomes) == ["conflict", "won"], outcomes
    winner = next(o[0] for o in outcomes if o[1] == "won")
    loser_message = next(o[2] for o in outcomes if o[1] == "conflict")
    assert "changed by someone else" in loser_message and "version 1" in loser_message

    after = h.get(app, c.id)
    assert after.complaint.version == 2
    assert after.complaint.status == ("acknowledged" if winner == "王芳" else "rejected")
    moves = [e for e in after.timeline if e.action == "moved"]
    assert [(e.actor, e.note.split(";")[0]) for e in moves] == [
        (winner, f"moved by {winner}")
    ]  # the loser wrote nothing


def test_a_stale_version_from_the_cli_is_a_conflict(app, h, kehu_cli):
    c = h.open_one(app, "2025-03-03 09:00")
    assert (
        kehu_cli(
            "--as", "王芳", "complaint", "move", str(c.id), "acknowledged", "--expect-version", "1"
        ).exit_code
        == 0
    )
    stale = kehu_cli("--as", "刘洋", "complaint", "move", str(c.id), "investigating", "--expect-version", "1")
    assert stale.exit_code == 1
    assert "changed by someone else (you had version 1, it is now version 2)" in stale.output
    assert "Traceback" not in stale.output
    assert h.get(app, c.id).complaint.status == "acknowledged"
