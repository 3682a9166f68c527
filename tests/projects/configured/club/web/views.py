"""The user of `await request.auser()` is the configured `members.User` (set in a
django-configurations class), not the `User` model this module imports from another app."""
from functools import partial

from asgiref.sync import sync_to_async
from django.http import JsonResponse

from club.accounts.models import User as GithubUser
from club.members.roles import is_mentor


async def my_github(request):
    user = await request.auser()
    github = getattr(user, "github", None)  # expect: AG104
    return JsonResponse({"linked": github is not None})


async def my_login(request):
    user = await request.auser()
    return JsonResponse({"login": user.github.login})  # expect: AG104


# --- silent -----------------------------------------------------------------------------

async def after_role_check(request):
    user = await request.auser()
    if not await sync_to_async(is_mentor)(user):
        return JsonResponse({}, status=403)
    github = getattr(user, "github", None)
    return JsonResponse({"login": github.login if github else None})


async def after_partial_check(request):
    user = await request.auser()
    mentor = await sync_to_async(partial(is_mentor, user))()
    return JsonResponse({"mentor": mentor, "login": user.github.login})


async def my_github_id(request):
    user = await request.auser()
    return JsonResponse({"id": user.github_id, "nick": user.nickname})


async def my_github_loaded(request):
    user = await request.auser()
    github = await sync_to_async(getattr)(user, "github", None)
    return JsonResponse({"login": github.login if github else None})


async def github_account(request, pk):
    account = await GithubUser.objects.aget(pk=pk)
    return JsonResponse({"login": account.login})
