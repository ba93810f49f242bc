"""The edge's attachment "CDN": ``GET /attachments/{channel_id}/{attachment_id}/{filename}``.

Discord's CDN serves attachments without authentication at the URL a message carries, and the
libraries download from it with no token (discord.py's ``Attachment.read``), so this route is
public too: knowing a URL is the permission, as on Discord before signed URLs. A file is
streamed from the blob store a chunk at a time with its ``Content-Type`` and ``Content-Length``;
a deleted message's files are removed from the store, and so are a deleted channel's or guild's
(its channels' attachment folders), so their URLs answer 404 (in Discord's JSON error shape);
``sweeper`` removes what crashed uploads left in the store, a bounded pass at a time. The content type comes from the file's own header and name
(``rayguild.http_api.media``), as it did when the message was made.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog
from aiohttp import web

from rayguild.errors import StorageUnavailable
from rayguild.http_api.errors import ApiError
from rayguild.http_api.forms import path_id
from rayguild.http_api.keys import CTX, ctx_of
from rayguild.http_api.media import describe
from rayguild.storage.blobs import BlobStore, attachment_folder, attachment_key

log = structlog.get_logger("rayguild.http")

PATH = "/attachments/{channel_id}/{attachment_id}/{filename}"
SWEEP_LIMIT = 500  # leftovers removed (or, on Cassandra, chunk partitions examined) per pass
SWEEP_INTERVAL_S = 600.0


def _not_found() -> ApiError:
    return ApiError(404, 0, "404: Not Found")


async def serve(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    channel_id, attachment_id = path_id(request, "channel_id"), path_id(request, "attachment_id")
    reader = await ctx.storage.blobs.open(attachment_key(channel_id, attachment_id))
    if reader is None:
        raise _not_found()
    try:
        first = await anext(reader.chunks, b"")
        response = web.StreamResponse(headers={
            "Content-Type": describe(request.match_info["filename"], first).content_type,
            "Content-Length": str(reader.size),
            "Cache-Control": "public, max-age=31536000, immutable",
        })  # fmt: skip
        await response.prepare(request)
        if request.method != "HEAD":  # HEAD: the headers only
            await response.write(first)
            async for chunk in reader.chunks:
                await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        await reader.chunks.aclose()


async def forget_files(blobs: BlobStore, channel_id: int, attachments: tuple[dict[str, Any], ...]) -> None:
    """Remove the bytes of ``attachments`` (a deleted message's, or files an edit dropped). The
    message is already gone, so a file that cannot be removed now is only unreferenced space."""
    for attachment in attachments:
        try:
            await blobs.delete(attachment_key(channel_id, int(attachment["id"])))
        except StorageUnavailable as exc:
            log.warning(
                "attachment.delete_failed", channel_id=channel_id, id=attachment["id"], error=str(exc)
            )


async def forget_channel_files(blobs: BlobStore, channel_ids: list[int]) -> None:
    """Remove every file of deleted channels (the channel, or its guild, is already gone, so a
    folder that cannot be removed now is only unreferenced space, logged)."""
    for channel_id in channel_ids:
        try:
            await blobs.delete_folder(attachment_folder(channel_id))
        except StorageUnavailable as exc:
            log.warning("attachment.folder_delete_failed", channel_id=channel_id, error=str(exc))


async def sweeper(app: web.Application) -> AsyncIterator[None]:
    """While the edge runs: a pass of the blob store's ``sweep`` (crash leftovers, at most
    ``SWEEP_LIMIT`` per pass) at start-up and every ``SWEEP_INTERVAL_S``. Each edge sweeps; a
    removal is idempotent, so two edges sweeping at once only repeat work."""
    blobs = app[CTX].storage.blobs

    async def loop() -> None:
        while True:
            try:
                removed = await blobs.sweep(SWEEP_LIMIT)
            except StorageUnavailable as exc:
                log.warning("attachment.sweep_failed", error=str(exc))
            else:
                if removed:
                    log.info("attachment.swept", removed=removed)
            await asyncio.sleep(SWEEP_INTERVAL_S)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
