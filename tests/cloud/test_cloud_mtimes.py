"""Modification times travel (issue 14, item 9): a client sends a file's mtime with the
upload (X-Mtime-Ns, or a batch item's mtime_ns), the cloud keeps it with the revision and
gives it back in FileVersion.mtime_ns, on downloads (X-Mtime-Ns) and in the changes feed;
a move keeps it; a client that sends none gets the service's time."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from support.cloud import User

MTIME = 1_000_000_000_123_456_789  # 2001-09-09, with nanoseconds


def test_mtimes_are_kept_with_revisions(alice: User, project: dict[str, Any]) -> None:
    c, pid = alice.client, project["id"]
    r = c.put(f"/projects/{pid}/files/a.txt", content=b"a", headers={"X-Mtime-Ns": str(MTIME)})
    assert r.status_code == 201 and r.json()["mtime_ns"] == MTIME
    r = c.get(f"/projects/{pid}/files/a.txt")
    assert r.headers["X-Mtime-Ns"] == str(MTIME)
    assert c.head(f"/projects/{pid}/files/a.txt").headers["X-Mtime-Ns"] == str(MTIME)

    # an old client sends none: the server's time, as modified_at says it
    v = c.put(f"/projects/{pid}/files/old-client.txt", content=b"o").json()
    server_time = dt.datetime.fromisoformat(v["modified_at"])
    assert v["mtime_ns"] == int(server_time.timestamp() * 1_000_000) * 1000

    manifest = {
        "items": [
            {
                "path": "b.txt",
                "size": 1,
                "sha256": hashlib.sha256(b"b").hexdigest(),
                "mtime_ns": MTIME + 1,
            },
            {"path": "c.txt", "size": 1, "sha256": hashlib.sha256(b"c").hexdigest()},
        ]
    }
    r = c.post(
        f"/projects/{pid}/batch",
        content=json.dumps(manifest).encode() + b"\nbc",
        headers={"Content-Type": "application/vnd.project-cloud.batch"},
    )
    b, cc = (item["version"] for item in r.json()["items"])
    assert b["mtime_ns"] == MTIME + 1 and cc["mtime_ns"] > MTIME + 1

    r = c.post(f"/projects/{pid}/moves", json={"from": "a.txt", "to": "moved/a.txt"})
    assert r.json()["mtime_ns"] == MTIME  # a move keeps the file's mtime

    changes = c.get(f"/projects/{pid}/changes").json()["items"]
    by_path = {ch["path"]: ch["mtime_ns"] for ch in changes}
    assert by_path["b.txt"] == MTIME + 1 and by_path["moved/a.txt"] == MTIME
    listed = {v["path"]: v["mtime_ns"] for v in c.get(f"/projects/{pid}/files").json()["items"]}
    assert listed["moved/a.txt"] == MTIME
    revs = c.get(f"/projects/{pid}/revisions/moved/a.txt").json()["items"]
    assert [v["mtime_ns"] for v in revs][-1] == MTIME


def test_bad_mtimes_are_refused(alice: User, project: dict[str, Any]) -> None:
    c, pid = alice.client, project["id"]
    for bad in ("soon", "1.5", "99999999999999999999", ""):
        r = c.put(f"/projects/{pid}/files/x.txt", content=b"x", headers={"X-Mtime-Ns": bad})
        assert r.status_code == 400, (bad, r.text)
    assert c.get(f"/projects/{pid}/files/x.txt").status_code == 404
