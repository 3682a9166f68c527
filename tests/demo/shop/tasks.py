from celery import shared_task

from .models import Order


@shared_task
def send_receipt(order_id):
    # Correct: Celery tasks are sync code.
    order = Order.objects.select_related("user").get(pk=order_id)
    return order.user.email
