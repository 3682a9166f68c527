from django.db import transaction
from django.http import JsonResponse
from django.views import View


async def cart(request):
    items = request.session.get("cart", [])  # expect: AG106
    return JsonResponse({"items": items})


@transaction.non_atomic_requests
async def excluded(request):
    items = await request.session.aget("cart", [])
    return JsonResponse({"items": items})


def sync_cart(request):
    return JsonResponse({"items": request.session.get("cart", [])})


class CartView(View):  # expect: AG206
    async def get(self, request):
        return JsonResponse({"items": await request.session.aget("cart", [])})


class PlainView(View):
    def get(self, request):
        return JsonResponse({"items": request.session.get("cart", [])})


async def not_routed(request):
    return JsonResponse({})
