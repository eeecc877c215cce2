"""Write the DMN test vectors (docs/vectors/dmn-test-vectors.json, docs/verification.md)."""

from django.core.management.base import BaseCommand

from verification import vectors


class Command(BaseCommand):
    help = (
        "Write docs/vectors/dmn-test-vectors.json: DMN1 and DMN2 tokens (genuine for every kind, expired, "
        "revoked, replaced, forged, unknown key, grafted, key-id prefix collision, malformed, unknown version) "
        "signed with a fixed test key, and what a verifier must conclude. Deterministic: run it again after a "
        "change to the format; tests/verification/test_vectors.py fails while the file is stale."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit 1 if the file differs; write nothing.")

    def handle(self, *args, check=False, **options):
        content = vectors.text()
        if check:
            if not vectors.PATH.is_file() or vectors.PATH.read_text() != content:
                self.stderr.write(f"{vectors.PATH} is stale: run manage.py dmn_test_vectors")
                raise SystemExit(1)
            return
        vectors.PATH.write_text(content)
        self.stdout.write(f"{vectors.PATH}: {len(vectors.build()['vectors'])} vectors")
