"""The user `await request.auser()` returns: the auth backend loads it with a plain `get()`,
so its relations are lazy (AUTH_USER_MODEL = people.Member, declared in another module)."""
from asgiref.sync import sync_to_async
from django.http import JsonResponse
from django.views import View

from shelf.people.models import Profile


async def my_favourite(request):
    user = await request.auser()
    return JsonResponse({"fav": user.favourite.title})  # expect: AG104


class MyProfile(View):
    async def get(self, request):
        user = await self.request.auser()
        profile = getattr(user, "profile", None)  # expect: AG104
        return JsonResponse({"bio": profile.bio if profile else ""})


# --- silent -----------------------------------------------------------------------------

async def my_favourite_id(request):
    user = await request.auser()
    return JsonResponse({"fav": user.favourite_id, "nick": user.nickname})


async def my_favourite_loaded(request):
    user = await request.auser()
    fav = await sync_to_async(getattr)(user, "favourite")
    return JsonResponse({"fav": fav.title, "again": user.favourite.title})


async def my_bio_in_thread(request):
    user = await request.auser()
    bio = await sync_to_async(lambda: user.profile.bio)()
    return JsonResponse({"bio": bio})


async def profile_by_member(request):
    user = await request.auser()
    profile = await Profile.objects.filter(member_id=user.pk).afirst()
    return JsonResponse({"bio": profile.bio if profile else ""})
