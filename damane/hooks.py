"""Reading the answers to a signal a lower layer sends to the apps above it (docs/architecture.md).

A lower app declares a ``django.dispatch.Signal`` in its ``signals.py`` and sends
it; an upper app connects a receiver in its ``apps.py`` ``ready()``. When the
sender wants something back (more context for a page, choices for a form),
each receiver returns it and these helpers gather the answers, as pretix's
plugins answer the signals of ``pretix/base/signals.py``.
"""

from django.dispatch import Signal


def merged_context(signal: Signal, **kwargs) -> dict:
    """The dicts the receivers of ``signal`` return, merged in the order they connected (None is skipped)."""
    context: dict = {}
    for _receiver, answer in signal.send(sender=None, **kwargs):
        if answer:
            context.update(answer)
    return context


def joined_answers(signal: Signal, **kwargs) -> list:
    """The lists the receivers of ``signal`` return, one after the other (None is skipped)."""
    items: list = []
    for _receiver, answer in signal.send(sender=None, **kwargs):
        if answer:
            items.extend(answer)
    return items
