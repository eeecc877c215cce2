import pytest

from treaties.conventions import ensure_conventions


@pytest.fixture(autouse=True)
def _conventions(request):
    """The treaty request offers the conventions in force: the migration's, also after a transactional test
    flushed them."""
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        ensure_conventions()
