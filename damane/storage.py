"""Storing uploaded files so that a failure leaves no file behind (issues 20 and 24).

Django's file storage creates the file, then writes it: a full disk or a
read-only volume left a 0-byte file under ``private/case-documents/`` and the
person got the generic 500 page. Here:

- ``store`` writes an upload into a ``FileField``; when the write fails
  (``OSError``: no space, read-only, permissions), whatever was created is
  deleted and ``StorageUnavailable`` is raised, which the person sees as a 503
  "your file could not be stored, try again later" (damane/middleware.py);
- ``removed_on_failure`` deletes the files stored in its block when the block
  raises, e.g. when the database write that follows fails and the transaction
  rolls back. Put it around the service's ``transaction.atomic()`` block: the
  services own their transaction (no ``ATOMIC_REQUESTS``), so once the block
  succeeds the rows that name the files are committed.

    with removed_on_failure() as stored, transaction.atomic():
        store(document.file, random_name(extension), upload, stored)
        document.save()

The same holds for the S3-compatible object store (``DAMANE_S3_BUCKET``,
django-storages): a store that does not answer, refuses the write or answers
5xx raises ``StorageUnavailable`` like a full disk (an upload to S3 is one
``PUT``, or a multipart upload aborted on failure: no half-written object is
left), and ``open_for_download`` reads a stored file whole before the view
answers, so a store that fails gives the person a 503 page, never a truncated
download that looks complete.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from django.core.files.base import File

logger = logging.getLogger(__name__)


def is_storage_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the storage failed: a disk error, or one of the object store's client.

    boto3 is imported only by a process whose storage is the object store (about
    25 MB a process): its errors are recognised once it is loaded, never imported here.
    """
    if isinstance(exc, OSError):
        return True
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is not None and isinstance(exc, (botocore.BotoCoreError, botocore.ClientError)):
        return True
    boto3 = sys.modules.get("boto3.exceptions")
    return boto3 is not None and isinstance(exc, boto3.Boto3Error)


class StorageUnavailable(Exception):
    """An upload could not be written: nothing was recorded, the person may try again later."""


class StorageUnreadable(StorageUnavailable):
    """A stored file could not be read right now (the store is down): the person may try again later."""


StoredFiles = list


@contextlib.contextmanager
def removed_on_failure() -> Iterator[StoredFiles]:
    """A list for ``store`` to note its files in; they are deleted if the block raises."""
    stored: StoredFiles = []
    try:
        yield stored
    except BaseException:
        for storage, name in stored:
            _delete(storage, name)
        raise


def store(field_file, filename: str, content, stored: StoredFiles | None = None) -> None:
    """Write ``content`` into ``field_file`` (of an unsaved instance) under ``filename``.

    ``filename`` must be new (a random name): an existing file is never
    overwritten, nor deleted on failure.
    """
    storage = field_file.storage
    name = field_file.field.generate_filename(field_file.instance, filename)
    try:
        exists = storage.exists(name)
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        logger.error("upload not stored: %s", exc.__class__.__name__, extra={"errno": getattr(exc, "errno", None)})
        raise StorageUnavailable(str(exc)) from exc
    if exists:
        raise StorageUnavailable(f"{name} exists already")
    if stored is not None:
        stored.append((storage, name))
    try:
        saved = storage.save(
            name, content if isinstance(content, File) else File(content), max_length=field_file.field.max_length
        )
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        logger.error("upload not stored: %s", exc.__class__.__name__, extra={"errno": getattr(exc, "errno", None)})
        _delete(storage, name)
        raise StorageUnavailable(str(exc)) from exc
    if saved != name and stored is not None:
        stored.append((storage, saved))
    field_file.name = saved
    setattr(field_file.instance, field_file.field.attname, saved)
    field_file._committed = True


def open_for_download(field_file):
    """The stored file, read whole and rewound, for a ``FileResponse``; ``StorageUnreadable`` if the store fails.

    Uploads are at most ``DAMANE_UPLOAD_MAX_BYTES`` (5 MB): reading one before
    answering costs little, and a store that fails half-way gives a 503 page
    instead of a download cut short after its 200. On the object store the bytes
    are held in memory (django-storages' buffer, ``AWS_S3_MAX_MEMORY_SIZE`` 0:
    never spooled to disk) and the browser never learns where they came from.
    A file missing from the store is a ``FileNotFoundError`` (a 404 for the view).
    """
    try:
        handle = field_file.storage.open(field_file.name, "rb")
        handle.read(0)  # the object store downloads the body here; the file system only opens
        handle.seek(0)
    except FileNotFoundError:
        raise
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        logger.error("stored file not readable: %s", exc.__class__.__name__)
        raise StorageUnreadable(str(exc)) from exc
    return handle


def _delete(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception as exc:  # a read-only volume or a store that is down: logged for the operator
        if not is_storage_error(exc):
            raise
        logger.error("could not remove a partly stored upload: %s", exc.__class__.__name__)
