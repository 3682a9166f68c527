"""The user model (AUTH_USER_MODEL = people.Member) found project-wide by its app label: this
file imports nothing of shelf.people."""
from django.http import JsonResponse


async def my_favourite(request):
    user = await request.auser()
    return JsonResponse({"fav": user.favourite.title})  # expect: AG104


# --- silent -----------------------------------------------------------------------------

async def my_favourite_id(request):
    user = await request.auser()
    return JsonResponse({"fav": user.favourite_id})


async def my_nickname(request):
    user = await request.auser()
    return JsonResponse({"nick": user.nickname})
