"""Async views of a small shop: some correct, some with the bugs awaitguard catches."""
from asgiref.sync import sync_to_async
from django.db import transaction
from django.http import JsonResponse

from .models import Order, Product
from .tasks import send_receipt


async def product_detail(request, pk):
    # Bug: a sync query inside an async view raises SynchronousOnlyOperation.
    product = Product.objects.get(pk=pk)
    in_stock = Product.objects.filter(pk=pk, stock__gt=0).exists()
    return JsonResponse({"name": product.name, "in_stock": in_stock})


async def product_name(request, pk):
    # Bug, and the fix needs parentheses: (await Product.objects.aget(pk=pk)).name
    return JsonResponse({"name": Product.objects.get(pk=pk).name})


async def order_count(request):
    # Correct: the async twins.
    n = await Order.objects.filter(user_id=request.GET["user"]).acount()
    latest = await Order.objects.order_by("-id").afirst()
    return JsonResponse({"orders": n, "latest": latest.pk if latest else None})


async def place_order(request, pk):
    # Bug: Django has no async transactions; this raises SynchronousOnlyOperation, and with
    # DJANGO_ALLOW_ASYNC_UNSAFE the awaited queries run outside the transaction.
    with transaction.atomic():
        product = await Product.objects.select_for_update().aget(pk=pk)
        order = await Order.objects.acreate(user_id=1, product=product, quantity=1)
    return JsonResponse({"order": order.pk})


@transaction.atomic
def _pay(order_id):
    # Correct: a sync atomic function, run through sync_to_async below.
    order = Order.objects.select_for_update().get(pk=order_id)
    order.paid = True
    order.save(update_fields=["paid"])
    transaction.on_commit(lambda: send_receipt.delay(order_id))


async def pay(request, order_id):
    await sync_to_async(_pay)(order_id)
    return JsonResponse({"paid": True})


def legacy_report(request):
    # Correct: a sync view may use the sync ORM.
    return JsonResponse({"products": Product.objects.count()})
