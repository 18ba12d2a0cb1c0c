"""Bridge cassandra-driver's callback futures to asyncio without a thread per query."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from cassandra.cluster import ResultSet


@dataclass(frozen=True, slots=True)
class Result:
    """One page of rows, its column names and the driver's paging state (opaque, never logged)."""

    rows: list[Any]
    column_names: list[str]
    paging_state: bytes | None

    def __repr__(self) -> str:  # keeps paging state (which may hold key data) out of logs
        return f"Result(rows={len(self.rows)}, more={self.paging_state is not None})"


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled: drop the late answer
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


async def execute(session: Any, statement: Any, parameters: Any = None, **options: Any) -> Result:
    """Run ``statement`` with ``execute_async`` and await only the first page of its rows.

    Callbacks run on the driver's I/O thread, so they hand the outcome to the loop with
    ``call_soon_threadsafe``; further pages are never fetched implicitly (that would block).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Result] = loop.create_future()
    response = session.execute_async(statement, parameters, **options)

    def on_rows(rows: Any) -> None:
        page = ResultSet(response, rows)  # reads this page only; never iterate it (would block)
        paging_state = page.paging_state if page.has_more_pages else None
        result = Result(list(page.current_rows), list(page.column_names or ()), paging_state)
        loop.call_soon_threadsafe(_settle, future, result, None)

    def on_error(error: BaseException) -> None:
        loop.call_soon_threadsafe(_settle, future, None, error)

    response.add_callbacks(on_rows, on_error)
    return await future
