"""Waiting for something that happens in another thread, process or task: the one polling
helper of the tests.

``eventually(fn)`` calls ``fn`` every ``interval`` seconds until it returns a truthy value,
which it returns. An :class:`AssertionError` from ``fn`` counts as "not yet" (so ``fn`` may
assert, and end with ``return True``); any other exception ends the wait at once (``fn`` can
give up early with ``pytest.fail``). After ``timeout`` seconds it fails with what it waited
for (``what``, or where ``fn`` is defined) and ``fn``'s last value or assertion.

``eventually_async`` is the same for async tests: it sleeps with ``asyncio.sleep``, and
awaits ``fn``'s result when that is awaitable.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

TIMEOUT = 20.0
INTERVAL = 0.05


def eventually(
    fn: Callable[[], Any],
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    *,
    what: str = "",
) -> Any:
    """``fn``'s first truthy value (or the first that comes without an AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        done, value, error = _attempt(fn)
        if done:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(fn, timeout, what, value, error)
        time.sleep(interval)


async def eventually_async(
    fn: Callable[[], Any],
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    *,
    what: str = "",
) -> Any:
    """:func:`eventually` on the running event loop; ``fn`` may be a coroutine function."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            result = fn()
            if inspect.isawaitable(result):
                result = await result
            done, value, error = bool(result), result, None
        except AssertionError as exc:
            done, value, error = False, None, exc
        if done:
            return value
        if loop.time() >= deadline:
            raise _timed_out(fn, timeout, what, value, error)
        await asyncio.sleep(interval)


def _attempt(fn: Callable[[], Any]) -> tuple[bool, Any, AssertionError | None]:
    try:
        value = fn()
    except AssertionError as exc:
        return False, None, exc
    return bool(value), value, None


def _timed_out(
    fn: Callable[[], Any], timeout: float, what: str, value: Any, error: AssertionError | None
) -> AssertionError:
    last = f"last assertion: {error}" if error is not None else f"last value: {value!r}"
    failure = AssertionError(
        f"timed out after {timeout:g} s waiting for {what or _name(fn)}; {last}"
    )
    failure.__cause__ = error
    return failure


def _name(fn: Callable[[], Any]) -> str:
    """``fn``'s name, and where it is defined when it is a lambda."""
    name = getattr(fn, "__qualname__", repr(fn))
    code = getattr(fn, "__code__", None)
    if code is not None and "<lambda>" in name:
        return f"the lambda at {code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno}"
    return name
