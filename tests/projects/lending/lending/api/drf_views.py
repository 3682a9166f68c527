from asgiref.sync import sync_to_async
from django.http import JsonResponse

from . import serializers
from .serializers import LoanSerializer, ReturnRequest


async def create_loan(request):
    s = LoanSerializer(data=request.POST)
    # Its fields are declared in another module: whether validation queries is unknown.
    if s.is_valid():
        s.save()  # expect: AG108
    other = serializers.LoanSerializer(data=request.POST)
    ok = other.is_valid()
    return JsonResponse({"ok": ok})


async def validate_only(request):
    # A plain Serializer queries nothing.
    r = ReturnRequest(data=request.POST)
    r.is_valid()
    s = LoanSerializer(data=request.POST)
    valid = await sync_to_async(s.is_valid)()
    return JsonResponse({"r": r.data, "v": valid})
