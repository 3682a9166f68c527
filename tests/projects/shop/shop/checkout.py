from django.db import transaction

from . import notify
from .models import Order
from .notify import describe, receipt, reindex_order
from .tasks import reindex


def checkout(total):
    with transaction.atomic():
        order = Order.objects.create(total=total)
        receipt(order)  # expect: AG208
        notify.receipt_via_helper(order)  # expect: AG208
        # true negatives: a task whose base defers to commit, a helper that dispatches
        # nothing
        reindex_order(order)
        reindex.delay(order.pk)
        describe(order)
    receipt(order)
    return order
