"""damane.ratelimit: shared-cache counters per key and window, and the 429 decorator (docs/security.md §8, 18)."""

from datetime import datetime, timedelta

from django.http import HttpResponse
from django.test import RequestFactory
from freezegun import freeze_time

from damane.ratelimit import client_ip, hit, peek, ratelimit

START = datetime(2026, 3, 2, 9, 0, 0)


def test_hits_are_allowed_up_to_the_limit_then_refused_until_the_window_ends():
    with freeze_time(START) as frozen:
        results = [hit("t:a", limit=3, window=60) for _ in range(4)]
        assert [r.allowed for r in results] == [True, True, True, False]
        assert results[-1].retry_after == 60
        frozen.tick(timedelta(seconds=45))
        assert hit("t:a", limit=3, window=60).retry_after == 15
        frozen.tick(timedelta(seconds=15))
        assert hit("t:a", limit=3, window=60).allowed


def test_keys_are_counted_apart():
    with freeze_time(START):
        for _ in range(3):
            hit("t:b", limit=3, window=60)
        assert not hit("t:b", limit=3, window=60).allowed
        assert hit("t:c", limit=3, window=60).allowed


def test_peek_tells_whether_the_next_hit_would_pass_without_counting():
    with freeze_time(START):
        for _ in range(2):
            assert peek("t:d", limit=2, window=3600).allowed
            hit("t:d", limit=2, window=3600)
        state = peek("t:d", limit=2, window=3600)
        assert not state.allowed
        assert state.retry_after == 3600
        assert state.count == 2


def limited_view():
    @ratelimit(limit=2, window=60, group="test.view")
    def view(request):
        return HttpResponse("ok")

    return view


def test_the_decorator_answers_429_with_retry_after_and_a_page(rf: RequestFactory):
    view = limited_view()
    with freeze_time(START):
        assert view(rf.post("/x")).status_code == 200
        assert view(rf.post("/x")).status_code == 200
        response = view(rf.post("/x"))
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert response["Cache-Control"] == "no-store"
    assert "Too many requests" in response.content.decode()


def test_the_decorator_counts_posts_only_by_default(rf):
    view = limited_view()
    with freeze_time(START):
        for _ in range(5):
            assert view(rf.get("/x")).status_code == 200
        assert view(rf.post("/x")).status_code == 200


def test_the_decorator_counts_each_client_address_apart(rf):
    view = limited_view()
    with freeze_time(START):
        for _ in range(2):
            view(rf.post("/x", REMOTE_ADDR="10.0.0.1"))
        assert view(rf.post("/x", REMOTE_ADDR="10.0.0.1")).status_code == 429
        assert view(rf.post("/x", REMOTE_ADDR="10.0.0.2")).status_code == 200


def test_the_client_address_is_remote_addr_unless_proxies_are_trusted(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 41.250.1.2")
    settings.DAMANE_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.9"
    settings.DAMANE_TRUSTED_PROXY_COUNT = 1
    # The entry the trusted proxy added, not the one the client typed.
    assert client_ip(request) == "41.250.1.2"


def test_a_hit_on_redis_is_one_round_trip_and_peek_reads_the_same_counter(monkeypatch):
    import redis.connection
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache), "the suite runs on Redis (REDIS_URL)"
    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        if b"PING" not in b"".join(command if isinstance(command, list) else [command]):
            sent.append(command)  # the connection's own health checks aside
        return original(self, command, check_health)

    hit("warm-up-connection", limit=5, window=60)
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    with freeze_time(START):
        results = [hit("one-trip", limit=2, window=60) for _ in range(3)]
        assert len(sent) == 3
        assert [r.count for r in results] == [1, 2, 3]
        assert [r.allowed for r in results] == [True, True, False]
        assert peek("one-trip", limit=5, window=60).count == 3
