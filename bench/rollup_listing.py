"""Rows read to list every account of a rollup spread over parts, against the rows listed: the
reader of the store over the tree rows `split_rows` makes, in memory (a count, not a timing)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.rollup_rows import counting_reader, list_all

CASES = [(5_000, 16, 100), (20_000, 4, 1000), (20_000, 64, 1000), (100_000, 64, 500)]


async def main() -> None:
    print("accounts  parts  page  rows read  read / listed")
    for accounts, parts, page in CASES:
        names = [f"acc-{n:07d}" for n in range(accounts)]
        reader, read = counting_reader(names, parts)
        assert await list_all(reader, page) == names
        print(f"{accounts:>8,}  {parts:>5}  {page:>4}  {read[0]:>9,}  {read[0] / accounts:>13.2f}")


if __name__ == "__main__":
    asyncio.run(main())
