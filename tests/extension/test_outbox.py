"""The per-connection outbox: progress is coalesced and dropped oldest-first, finals never."""

from __future__ import annotations

import asyncio

from project_filebrowser.outbox import Outbox


def test_policies() -> None:
    async def main() -> None:
        sent: list[str] = []
        gate = asyncio.Event()

        async def slow_send(payload: str) -> None:
            await gate.wait()  # a client that does not read
            sent.append(payload)

        overflowed: list[bool] = []
        box = Outbox(slow_send, limit=5, hard_limit=8, on_overflow=lambda: overflowed.append(True))
        box.start()
        await asyncio.sleep(0)
        for i in range(1000):
            box.put(f"job-a {i}", droppable=True, key="a")  # one slot, newest wins
        assert len(box) <= 2  # one may already be in flight
        for i in range(4):
            box.put(f"final {i}")
        for i in range(10):
            box.put(f"file {i}", droppable=True, key=f"f{i}")
        assert len(box) == 5 and box.dropped > 0
        gate.set()
        await asyncio.sleep(0.05)
        assert [s for s in sent if s.startswith("final")] == [f"final {i}" for i in range(4)]
        assert "job-a 999" in sent or "job-a" not in " ".join(sent[1:])

        gate.clear()
        box.put("in flight")
        await asyncio.sleep(0)
        for i in range(9):
            box.put(f"must keep {i}")  # finals pile up past the hard limit
        assert overflowed == [True] and box.overflowed
        box.close()

    asyncio.run(main())
