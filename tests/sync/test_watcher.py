"""The watcher on a real folder: a burst of edits becomes one debounced hint."""

from __future__ import annotations

import asyncio
from pathlib import Path

from project_filebrowser.sync.watcher import ProjectWatcher
from support.polling import eventually_async


def test_burst_of_edits_gives_one_hint_per_project(tmp_path: Path) -> None:
    async def main() -> None:
        hints: list[str] = []

        async def on_change(project_id: str) -> None:
            hints.append(project_id)

        watcher = ProjectWatcher(on_change, debounce_seconds=0.3)
        watcher.start()
        try:
            watcher.watch("a", tmp_path / "a")
            watcher.watch("b", tmp_path / "b")
            assert watcher.running and watcher.observer_kind
            for i in range(20):
                (tmp_path / "a" / f"f{i}.txt").write_text(str(i))
            await eventually_async(lambda: hints == ["a"])
            await asyncio.sleep(0.6)
            assert hints == ["a"]  # one burst, one hint; b untouched

            (tmp_path / "b" / "x.pfb.tmp").write_text("engine temp file")
            await asyncio.sleep(0.6)
            assert hints == ["a"]  # our temp files are no hint

            watcher.unwatch("a")
            (tmp_path / "a" / "late.txt").write_text("after unwatch")
            (tmp_path / "b" / "y.txt").write_text("y")
            await eventually_async(lambda: hints == ["a", "b"])
        finally:
            watcher.stop()
        assert not watcher.running

    asyncio.run(main())
