from django.db import transaction

from shopfront import api as api_module
from shopfront.api import orders


@orders.get("/{pk}")
async def order_detail(request, pk: int):  # expect: AG206
    return {"pk": pk}


@api_module.api.post("/ping")
async def ping(request):  # expect: AG206
    return {"ok": True}


# --- true negatives ---------------------------------------------------------------------

@orders.get("/")
def order_list(request):
    return []


async def helper(pk):
    return pk


@orders.delete("/{pk}")
@transaction.atomic
def order_delete(request, pk: int):
    return {"deleted": pk}
