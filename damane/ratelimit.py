"""Rate limits by key over a fixed time window, shared between processes.

Counters live in the default cache: Redis in production and in the test suite
(``REDIS_URL``), where ``cache.add`` and ``cache.incr`` are atomic, so a limit
holds across several application processes (docs/security.md §18). The demo without
Redis uses the database cache, whose ``incr`` is a read then a write: good
enough for one demo process, not for production.

A window is a fixed slice of time (``window`` seconds from the epoch): at most
``limit`` hits per key per slice. ``retry_after`` is the number of seconds until
the slice ends.

    result = hit(f"login:{client_ip(request)}", limit=20, window=60)
    if not result.allowed:
        ...

    @ratelimit(lambda request: client_ip(request), limit=20, window=60, group="login")
    def login(request): ...
"""

from __future__ import annotations

import hashlib
import math
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.shortcuts import render

from damane.access import client_ip

__all__ = ["RateLimitResult", "client_ip", "hit", "peek", "ratelimit", "ratelimited_response"]


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    # Seconds until the current window ends (0 when allowed).
    retry_after: int
    count: int


def _bucket(key: str, window: int) -> tuple[str, int]:
    now = time.time()
    slot = int(now // window)
    # Keys may contain addresses or identifiers: hash them so the cache key is
    # short, safe for every backend and does not store the clear value.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    retry_after = max(1, math.ceil((slot + 1) * window - now))
    return f"rl:{window}:{slot}:{digest}", retry_after


def hit(key: str, *, limit: int, window: int, cost: int = 1) -> RateLimitResult:
    """Count ``cost`` hits for ``key``; allowed while at most ``limit`` hits fell in this window.

    A refused hit of ``cost`` > 1 (a batch of look-ups) is taken back, so that a batch too
    large for what is left does not also refuse the single look-ups that still fit.
    """
    cache_key, retry_after = _bucket(key, window)
    count = _redis_hit(cache_key, window, cost=cost, limit=limit)
    if count is None:
        # add() only writes when absent, so concurrent first hits cannot reset each other.
        cache.add(cache_key, 0, timeout=window + 1)
        try:
            count = cache.incr(cache_key, cost)
        except ValueError:
            # The key expired between add() and incr(): start the window again.
            cache.add(cache_key, 0, timeout=window + 1)
            count = cache.incr(cache_key, cost)
        if cost > 1 and count > limit:
            cache.decr(cache_key, cost)
    allowed = count <= limit
    return RateLimitResult(allowed=allowed, retry_after=0 if allowed else retry_after, count=count)


# INCRBY, start the window's expiry on the first hit, and take back a refused batch
# (ARGV[2] > 1): atomic in Redis, one command.
_HIT_SCRIPT = """
local cost = tonumber(ARGV[2])
local count = redis.call('INCRBY', KEYS[1], cost)
if count == cost then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if cost > 1 and count > tonumber(ARGV[3]) then redis.call('DECRBY', KEYS[1], cost) end
return count
"""
_hit_script = None


# One redis-py client per connection pool of Django's RedisCache: its get_client()
# builds a new client (and its table of ~170 reply parsers) for every command,
# a third of a look-up's rate-limit CPU (issue 23). A client is thread-safe: each
# command borrows a connection from the pool.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _client(backend):
    # Django's RedisCacheClient (django.core.cache.backends.redis) runs no scripts of its own.
    pool = backend._cache._get_connection_pool(write=True)
    client = _clients.get(pool)
    if client is None:
        client = _clients.setdefault(pool, backend._cache._client(connection_pool=pool))
    return client


def _redis_hit(cache_key: str, window: int, *, cost: int = 1, limit: int = 0) -> int | None:
    """The count after this hit, in one Redis round trip; None on another cache backend.

    A Lua script (``EVALSHA``; redis-py loads it again after a Redis restart)
    instead of ``add()`` then ``incr()``, two round trips (issue 10). The key
    and the stored integer are the ones Django's RedisCache uses, so ``peek``
    (``cache.get``) reads the same counter. Redis errors propagate: the request
    gets its 503 and the limit is never skipped (docs/security.md §24).
    """
    global _hit_script
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    key = backend.make_and_validate_key(cache_key)
    client = _client(backend)
    if _hit_script is None:
        _hit_script = client.register_script(_HIT_SCRIPT)
    return int(_hit_script(keys=[key], args=[window + 1, cost, limit], client=client))


def peek(key: str, *, limit: int, window: int) -> RateLimitResult:
    """Whether one more hit on ``key`` would be allowed, without counting it."""
    cache_key, retry_after = _bucket(key, window)
    count = cache.get(cache_key, 0)
    allowed = count < limit
    return RateLimitResult(allowed=allowed, retry_after=0 if allowed else retry_after, count=count)


def ratelimited_response(request, retry_after: int):
    """The 429 page, with ``Retry-After`` so clients and proxies know when to come back."""
    response = render(
        request,
        "429.html",
        {"retry_after": retry_after, "retry_minutes": max(1, math.ceil(retry_after / 60))},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def ratelimit(
    key_func: Callable | None = None,
    limit: int | Callable[[], int] = 20,
    window: int | Callable[[], int] = 60,
    *,
    group: str | None = None,
    methods: Iterable[str] = ("POST",),
):
    """Answer 429 once ``key_func(request)`` made more than ``limit`` requests in ``window`` seconds.

    ``key_func`` defaults to the client address; ``group`` separates the counters
    of different views (it defaults to the view's dotted name). ``limit`` and
    ``window`` may be callables so that tests and settings changes apply at
    request time. Only ``methods`` are counted (POST by default: showing a form
    is free, submitting it is not).
    """
    key_func = key_func or client_ip
    methods = {m.upper() for m in methods}

    def decorator(view):
        name = group or f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                result = hit(
                    f"{name}:{key_func(request)}",
                    limit=limit() if callable(limit) else limit,
                    window=window() if callable(window) else window,
                )
                if not result.allowed:
                    return ratelimited_response(request, result.retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _verify_limit():
    from django.conf import settings

    return settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE


# Every look-up of a certificate or a share code (QR page, typed code, PDF upload, the
# API's own ``hit`` on the same "verification" group, a share code) counts in one budget
# per address. Here, below both apps that use it (verification, integrations).
verification_ratelimit = ratelimit(limit=_verify_limit, window=60, group="verification", methods=("GET", "POST"))
