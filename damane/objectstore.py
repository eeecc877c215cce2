"""The S3-compatible object store for uploads (issue 24): django-storages' settings, built in one place.

``damane/settings.py`` calls ``s3_storage`` when ``DAMANE_S3_BUCKET`` is set;
the tests call it with moto's server (tests/servers.py). What it sets, and why:

- no ACL on write (``default_acl`` None): objects take the bucket's, which is
  private (public access blocked on the bucket; docs/operations.md);
- server-side encryption on every object (``ServerSideEncryption``, AES256 or
  ``aws:kms`` with a key id), even if the bucket's default were removed;
- names are never reused (``file_overwrite`` False, and ``damane.storage.store``
  refuses an existing name): an upload never replaces another;
- short timeouts and one retry: a store that does not answer is an outage the
  person sees as a 503 within seconds, not a thread held for a minute.

Files are streamed to the browser by the views after their access check
(``damane.storage.open_for_download``); no view calls ``storage.url()``, so no
presigned URL, however short-lived, reaches a browser.
"""

from __future__ import annotations


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    prefix: str = "",
    sse: str = "AES256",
    kms_key_id: str = "",
    connect_timeout: float = 2.0,
    read_timeout: float = 10.0,
    addressing_style: str = "path",
) -> dict:
    """A ``STORAGES`` entry for django-storages' S3 backend."""
    from botocore.config import Config

    object_parameters = {"ServerSideEncryption": sse} if sse else {}
    if sse == "aws:kms" and kms_key_id:
        object_parameters["SSEKMSKeyId"] = kms_key_id
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            # Empty: boto3's own chain (an instance role, the AWS_* variables).
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "location": prefix,
            "default_acl": None,
            "file_overwrite": False,
            "object_parameters": object_parameters,
            "client_config": Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": addressing_style},
                signature_version="s3v4",
            ),
        },
    }
