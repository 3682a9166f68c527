"""The user model (AUTH_USER_MODEL = people.Member) declared in another module, through
`get_user_model()`; this file does not import Member itself."""
from django.contrib.auth import get_user_model
from django.http import JsonResponse

from shelf.people.models import Profile


async def favourite(request, pk):
    user = await get_user_model().objects.aget(pk=pk)
    return JsonResponse({"fav": user.favourite.title})  # expect: AG104


async def profile(request, pk):
    user = await get_user_model().objects.filter(is_active=True).aget(pk=pk)
    return JsonResponse({"bio": user.profile.bio})  # expect: AG104


# --- silent -----------------------------------------------------------------------------

async def favourite_selected(request, pk):
    user = await get_user_model().objects.select_related("favourite", "profile").aget(pk=pk)
    return JsonResponse({"fav": user.favourite.title, "bio": user.profile.bio})


async def favourite_id(request, pk):
    user = await get_user_model().objects.aget(pk=pk)
    return JsonResponse({"fav": user.favourite_id, "nick": user.nickname})


async def profile_forward_selected(request, pk):
    p = await Profile.objects.select_related("member").aget(pk=pk)
    return JsonResponse({"nick": p.member.nickname})
