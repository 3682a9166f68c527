from django.contrib.auth import get_user_model
from django.http import JsonResponse

from shelf.catalog.helpers import books_with_authors, load_book
from shelf.catalog.models import Book
from shelf.people.models import Member

User = get_user_model()


async def book_detail(request, pk):
    book = await Book.objects.aget(pk=pk)
    return JsonResponse({"author": book.author.name})  # expect: AG104


async def book_owner(request, pk):
    book = await Book.objects.filter(pk=pk).afirst()
    return JsonResponse({"owner": book.owner.username})  # expect: AG104


async def book_edition(request, pk):
    book = await Book.objects.aget(pk=pk)
    return JsonResponse({"isbn": book.edition.isbn})  # expect: AG104


async def book_blurb(request, pk):
    book = await Book.objects.only("title").aget(pk=pk)
    return JsonResponse({"blurb": book.blurb})  # expect: AG104


async def member_profile(request, pk):
    member = await Member.objects.aget(pk=pk)
    return JsonResponse({"bio": member.profile.bio})  # expect: AG104


async def user_badge(request, pk):
    user = await User.objects.aget(pk=pk)
    return JsonResponse({"badge": getattr(user, "badge", None) is not None})  # expect: AG104


# --- silent -----------------------------------------------------------------------------

async def book_detail_selected(request, pk):
    book = await Book.objects.select_related("author", "edition").aget(pk=pk)
    return JsonResponse({"author": book.author.name, "isbn": book.edition.isbn})


async def book_ids(request, pk):
    book = await Book.objects.aget(pk=pk)
    return JsonResponse({"author": book.author_id, "owner": book.owner_id, "title": book.title})


async def helper_queryset(request):
    names = [b.author.name async for b in books_with_authors()]
    return JsonResponse({"names": names})


async def helper_instance(request, pk):
    book = await load_book(pk)
    return JsonResponse({"title": book.title})


async def member_prefetched(request, pk):
    member = await Member.objects.prefetch_related("profile").aget(pk=pk)
    return JsonResponse({"bio": member.profile.bio, "nick": member.nickname})


async def user_selected(request, pk):
    user = await User.objects.select_related("profile").aget(pk=pk)
    return JsonResponse({"bio": user.profile.bio})
