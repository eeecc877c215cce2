"""Storing uploaded files so that a failure leaves no file behind (issue 20).

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
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from django.core.files.base import File

logger = logging.getLogger(__name__)


class StorageUnavailable(Exception):
    """An upload could not be written: nothing was recorded, the person may try again later."""


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
    if storage.exists(name):
        raise StorageUnavailable(f"{name} exists already")
    if stored is not None:
        stored.append((storage, name))
    try:
        saved = storage.save(
            name, content if isinstance(content, File) else File(content), max_length=field_file.field.max_length
        )
    except OSError as exc:
        logger.error("upload not stored: %s", exc.__class__.__name__, extra={"errno": exc.errno})
        _delete(storage, name)
        raise StorageUnavailable(str(exc)) from exc
    if saved != name and stored is not None:
        stored.append((storage, saved))
    field_file.name = saved
    setattr(field_file.instance, field_file.field.attname, saved)
    field_file._committed = True


def _delete(storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError as exc:  # a read-only volume may refuse this too: it is logged for the operator
        logger.error("could not remove a partly stored upload: %s", exc.__class__.__name__)
