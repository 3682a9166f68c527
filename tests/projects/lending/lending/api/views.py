import asyncio

from asgiref.sync import sync_to_async
from django.http import JsonResponse

from lending.loans import services
from lending.loans.services import close_all, close_loan, count_open, greeting, member_loans


async def return_loan(request, loan_id):
    loan = close_loan(loan_id)  # expect: AG108
    return JsonResponse({"id": loan.pk})


async def return_many(request):
    done = close_all([1, 2, 3])  # expect: AG108
    n = services.count_open(request.GET["m"])  # expect: AG108
    member = services.register("x").name  # expect: AG108
    via = services.count_open_via(1)
    return JsonResponse({"n": len(done), "c": n, "m": member, "v": via})


async def fine(request, member_id):
    loan = await services.close_loan_async(1)
    same = await sync_to_async(close_loan)(2)
    also = await asyncio.to_thread(count_open, member_id)  # expect: AG305
    qs = member_loans(member_id)
    n = await qs.acount()
    c = await services.async_count(member_id)
    hello = greeting("x")
    return JsonResponse({"l": loan.pk, "s": same.pk, "a": also, "n": n, "c": c, "h": hello})


def sync_view(request, member_id):
    return JsonResponse({"n": count_open(member_id), "l": close_loan(1).pk})
