"""Message uploads: a ``multipart/form-data`` body read part by part, its files streamed to the
blob store, turned into the message's ``payload_json`` and Discord attachment objects.

What the libraries send: discord.py a ``payload_json`` part, then ``files[n]`` parts (each
``application/octet-stream``) with ``attachments: [{id: n, filename, description?}]`` in the
payload; discord.js ``files[n]`` parts first, then ``payload_json``, its attachments carrying
``id`` (a string) and ``description`` but no filename (the part's filename is the name). The
legacy names ``file`` and ``file<n>`` are accepted too, and plain text parts (``content``,
``nonce``...) fill the payload when there is no ``payload_json``.

Bounds: at most ``MAX_FILES`` files, each at most ``config.max_upload_bytes`` (25 MiB by default;
beyond: 413 40005 Request entity too large, as JSON: aiohttp then reads and drops the rest of
the body, so the connection stays usable); every other part at most ``MAX_FIELD_BYTES``. A file
is never held whole in memory: it goes to the blob store in the pieces the socket delivers, and
only its first ``HEAD_BYTES`` are kept to measure an image. ``receive_files`` removes every blob
it stored if the request then fails (a bad payload, a refused message, a dropped client).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from rayguild.http_api.context import EdgeContext
from rayguild.http_api.errors import INVALID_JSON, REQUEST_TOO_LARGE, ApiError, invalid_form
from rayguild.http_api.forms import read_json
from rayguild.http_api.media import HEAD_BYTES, describe
from rayguild.storage.blobs import attachment_key

Json = dict[str, Any]

MAX_FILES = 10
MAX_FIELD_BYTES = 256 * 1024  # payload_json and text parts: the JSON route's own body limit
MAX_DESCRIPTION = 1024
MAX_FILENAME = 1024
IS_SPOILER = 1 << 3  # Discord's attachment flag; the file name keeps its SPOILER_ prefix
_FILE_FIELD = re.compile(r"files\[(\d{1,2})\]|file(\d{0,2})")
_UNSAFE = re.compile(r"[^\w.\-]")
_READ_BYTES = 64 * 1024


def is_multipart(request: web.Request) -> bool:
    return request.content_type == "multipart/form-data"


def clean_filename(name: str) -> str:
    """A file name as Discord shows it: no folders, spaces and unsafe characters as ``_``."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = _UNSAFE.sub("_", base)[:MAX_FILENAME].lstrip(".")
    return cleaned or "unknown"


def attachment_url(base: str, channel_id: int, attachment_id: int, filename: str) -> str:
    return f"{base}/attachments/{channel_id}/{attachment_id}/{filename}"


def too_large() -> ApiError:
    return ApiError(413, REQUEST_TOO_LARGE, "Request entity too large")


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One file part, stored: its form index, the name it came with, and what it is."""

    index: int
    attachment_id: int
    filename: str
    size: int
    content_type: str
    width: int | None
    height: int | None


@dataclass(slots=True)
class Upload:
    """A parsed multipart message body: its JSON payload and the files already stored."""

    payload: Json = field(default_factory=dict)
    files: list[StoredFile] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def attachments(self, base: str, channel_id: int) -> tuple[Json, ...]:
        """The message's attachment objects: the files in form order, named and described by the
        payload's ``attachments`` entries (matched on ``id`` = the file's form index)."""
        listed = _listed(self.payload)
        uploaded = {f.index for f in self.files}
        entries: dict[int, tuple[int, Json]] = {}
        for position, (ident, entry) in enumerate(listed):
            if ident < MAX_FILES and ident not in uploaded:
                raise invalid_form(f"attachments.{position}.id", "ATTACHMENT_NOT_FOUND",
                                   f"No file was uploaded as files[{ident}].")  # fmt: skip
            entries[ident] = (position, entry)
        shown = []
        for stored in sorted(self.files, key=lambda f: f.index):
            position, meta = entries.get(stored.index, (0, {}))
            name = clean_filename(str(meta.get("filename") or stored.filename))
            out: Json = {
                "id": str(stored.attachment_id), "filename": name, "size": stored.size,
                "url": attachment_url(base, channel_id, stored.attachment_id, name),
                "proxy_url": attachment_url(base, channel_id, stored.attachment_id, name),
                "content_type": stored.content_type,
            }  # fmt: skip
            if stored.width is not None:
                out.update(width=stored.width, height=stored.height)
            description = meta.get("description")
            if description is not None and (
                not isinstance(description, str) or len(description) > MAX_DESCRIPTION
            ):
                raise invalid_form(f"attachments.{position}.description", "BASE_TYPE_BAD_LENGTH",
                                   f"Must be a string of {MAX_DESCRIPTION} or fewer in length.")  # fmt: skip
            if description:
                out["description"] = description
            if name.startswith("SPOILER_"):
                out["flags"] = IS_SPOILER
            shown.append(out)
        return tuple(shown)


def _listed(payload: Json) -> list[tuple[int, Json]]:
    """The payload's ``attachments`` entries with their numeric ``id`` (validated)."""
    raw = payload.get("attachments") or []
    if not isinstance(raw, list) or len(raw) > MAX_FILES:
        raise invalid_form("attachments", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length.")
    listed = []
    for position, entry in enumerate(raw):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(ident, bool) or not str(ident).isdigit():
            raise invalid_form(f"attachments.{position}.id", "NUMBER_TYPE_COERCE",
                               f'Value "{ident}" is not a file index or attachment id.')  # fmt: skip
        assert isinstance(entry, dict)
        listed.append((int(str(ident)), entry))
    return listed


def kept_attachments(payload: Json, existing: tuple[Json, ...]) -> tuple[Json, ...] | None:
    """On an edit, the message's attachments the payload keeps (None: no ``attachments`` field,
    keep all); an id that is neither a file index nor one of ``existing`` is 400 50035."""
    if "attachments" not in payload:
        return None
    by_id = {int(a["id"]): a for a in existing}
    kept = []
    for position, (ident, _) in enumerate(_listed(payload)):
        if ident in by_id:
            kept.append(by_id[ident])
        elif ident >= MAX_FILES:
            raise invalid_form(f"attachments.{position}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment.")
    return tuple(kept)


def file_index(name: str, taken: set[int]) -> int:
    """The form index a file part's name gives (``files[n]``, ``file``, ``file<n>``)."""
    found = _FILE_FIELD.fullmatch(name)
    if found is None:
        raise invalid_form(name or "files", "BASE_TYPE_CHOICES", "Files must be sent as files[n].")
    index = int(found.group(1) or found.group(2) or 0)
    if index >= MAX_FILES or index in taken:
        raise invalid_form(name, "BASE_TYPE_MAX_LENGTH", f"At most {MAX_FILES} distinct files[0-9].")
    return index


async def _field(part: BodyPartReader) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(_READ_BYTES):
        data += chunk
        if len(data) > MAX_FIELD_BYTES:
            raise too_large()
    return bytes(data)


async def _store(ctx: EdgeContext, part: BodyPartReader, key: str, index: int, limit: int) -> StoredFile:
    head = bytearray()

    async def chunks() -> AsyncIterator[bytes]:
        size = 0
        while chunk := await part.read_chunk(_READ_BYTES):
            size += len(chunk)
            if size > limit:
                raise too_large()
            if len(head) < HEAD_BYTES:
                head.extend(chunk[: HEAD_BYTES - len(head)])
            yield chunk

    size = await ctx.storage.blobs.put(key, chunks())
    filename = clean_filename(part.filename or "unknown")
    media = describe(filename, bytes(head))
    attachment_id = int(key.rsplit("/", 1)[-1])
    return StoredFile(index, attachment_id, filename, size, media.content_type, media.width, media.height)


async def _read(request: web.Request, ctx: EdgeContext, channel_id: int, upload: Upload) -> None:
    reader = await request.multipart()
    fields: Json = {}
    taken: set[int] = set()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise invalid_form("files", "BASE_TYPE_CHOICES", "Nested multipart bodies are not accepted.")
        name = part.name or ""
        if name == "payload_json":
            upload.payload = _json(await _field(part))
        elif part.filename is not None:
            index = file_index(name, taken)
            if len(upload.files) >= MAX_FILES:
                raise invalid_form(
                    "files", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length."
                )
            taken.add(index)
            key = attachment_key(channel_id, ctx.snowflakes.next())
            upload.keys.append(key)
            upload.files.append(await _store(ctx, part, key, index, ctx.config.max_upload_bytes))
        else:
            fields[name] = (await _field(part)).decode("utf-8", "replace")
    if not upload.payload:
        upload.payload = fields


def _json(raw: bytes) -> Json:
    try:
        value = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise ApiError(400, INVALID_JSON, "The request body contains invalid JSON.") from None
    if not isinstance(value, dict):
        raise invalid_form("payload_json", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    return value


@contextlib.asynccontextmanager
async def receive_files(request: web.Request, ctx: EdgeContext, channel_id: int) -> AsyncIterator[Upload]:
    """Read the multipart body of ``request`` into an ``Upload`` (files stored under
    ``channel_id``); if reading it or the ``async with`` body fails, the stored files are deleted."""
    upload = Upload()
    try:
        try:
            await _read(request, ctx, channel_id, upload)
        except (ValueError, HttpProcessingError) as exc:  # aiohttp's parser: a malformed body or part header
            raise invalid_form("files", "MULTIPART_INVALID", f"Unreadable multipart body: {exc}") from None
        yield upload
    except BaseException:
        for key in upload.keys:
            with contextlib.suppress(Exception):
                await ctx.storage.blobs.delete(key)
        raise


@dataclass(frozen=True, slots=True)
class MessageForm:
    """A message body as sent: its JSON payload and the attachments of the files sent with it."""

    payload: Json
    new_files: tuple[Json, ...] = ()

    def attachments_after_edit(self, existing: tuple[Json, ...]) -> tuple[Json, ...] | None:
        """The attachments an edit leaves on a message (None: unchanged)."""
        kept = kept_attachments(self.payload, existing)
        if kept is None and not self.new_files:
            return None
        return (*(existing if kept is None else kept), *self.new_files)


@contextlib.asynccontextmanager
async def message_form(request: web.Request, ctx: EdgeContext, channel_id: int) -> AsyncIterator[MessageForm]:
    """The body of a message create or edit: JSON, or multipart with files (stored, and removed
    again if the ``async with`` body fails)."""
    if not is_multipart(request):
        yield MessageForm(await read_json(request))
        return
    async with receive_files(request, ctx, channel_id) as upload:
        yield MessageForm(upload.payload, upload.attachments(base_url(request, ctx), channel_id))


def base_url(request: web.Request, ctx: EdgeContext) -> str:
    """Where clients reach this server: ``public_url`` when configured, else the origin the
    request came to (so an attachment URL works for whoever could send the upload)."""
    return ctx.config.public_url.rstrip("/") or f"{request.scheme}://{request.host}"
