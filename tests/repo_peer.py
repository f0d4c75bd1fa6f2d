"""A peer process for the kill tests: ``python tests/repo_peer.py URL STORAGE PEER_ID DOC TOTAL``.

Connects to URL with its storage folder, finds DOC, syncs, then appends seat-1 moves (one change
each, numbered by its own count of seat-1 entries) every 20 ms until it wrote TOTAL; prints
``moves K`` after each and ``done`` at the end.
"""

from __future__ import annotations

import asyncio
import sys

from repo_helpers import append_moves, log_of

from htjax.sync.repo import Repo


async def main(url: str, storage: str, peer_id: str, document_id: str, total: int) -> None:
    repo = Repo(storage, peer_id=peer_id)
    await repo.connect(url, backoff_base=0.05, backoff_max=0.3)
    handle = await repo.find(document_id, timeout=10)
    await handle.wait_synced(10)
    while True:
        mine = [a for s, a in log_of(handle.doc) if s == 1]
        if len(mine) >= total:
            break
        append_moves(handle, 1, [len(mine)])
        print(f"moves {len(mine) + 1}", flush=True)
        await asyncio.sleep(0.02)
    await handle.wait_synced(10)
    print("done", flush=True)
    await repo.close()


if __name__ == "__main__":
    url, storage, peer_id, document_id, total = sys.argv[1:]
    asyncio.run(main(url, storage, peer_id, document_id, int(total)))
