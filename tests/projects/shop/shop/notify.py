"""Sync helpers that dispatch tasks."""
from .tasks import reindex, send_receipt


def receipt(order):
    send_receipt.delay(order.pk)


def receipt_via_helper(order):
    receipt(order)


def reindex_order(order):
    reindex.delay(order.pk)


def describe(order):
    return f"order {order.pk}"
