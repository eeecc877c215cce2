"""Run the same call in several threads at once, each on its own database connection."""

import threading

from django.db import connection


def run_in_threads(count, target):
    """Start ``count`` threads together on ``target``; its results or exceptions, in no order."""
    barrier = threading.Barrier(count)
    results = []
    lock = threading.Lock()

    def worker():
        barrier.wait()
        try:
            outcome = target()
        except Exception as exc:
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
