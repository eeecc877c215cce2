"""Background work of webhooks: one delivery attempt, and the hourly watch (thin wrappers over services).

Deliveries are swept by ``damane.tasks.requeue_outbox`` through
``services.deliveries_due``, registered in ``IntegrationsConfig.ready``.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from integrations.webhooks import events, services


@shared_task(bind=True, acks_late=True)
def deliver(self, delivery_id: int) -> str:
    return services.deliver(delivery_id=delivery_id)


@shared_task
def watch() -> dict:
    with transaction.atomic():
        return events.watch()
