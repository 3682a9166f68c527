from .models import Order


async def bump(order_id):
    order = await Order.objects.aget(pk=order_id)
    order.total += 1
    # Order derives from the project's AsyncModel, which defines asave on Django 4.1
    await order.asave()
    return order
