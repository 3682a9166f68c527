from django.db import transaction

from . import notify
from .models import Order
from .notify import describe, receipt, reindex_order
from .tasks import reindex


def checkout(total):
    with transaction.atomic():
        order = Order.objects.create(total=total)
        receipt(order)  # expect: AG208
        # true negatives: a task whose base (another file) defers to commit, a helper that
        # dispatches nothing, and the same dispatch reached again in this block
        reindex_order(order)
        reindex.delay(order.pk)
        describe(order)
        notify.receipt_via_helper(order)
    receipt(order)
    return order


@transaction.atomic
def pay(order):
    order.total = 0
    order.save()
    notify.receipt_via_helper(order)  # expect: AG208
