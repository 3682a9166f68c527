"""Instances and querysets produced by helpers of another module (catalog.services)."""
from django.http import JsonResponse

from shelf.catalog import services
from shelf.catalog.services import books_for_list, get_book, recent_books


async def via_module(request, pk):
    book = await services.get_book(pk)
    return JsonResponse({"author": book.author.name})  # expect: AG104


async def via_name(request, pk):
    book = await get_book(pk)
    return JsonResponse({"isbn": book.edition.isbn})  # expect: AG104


async def via_module_attr_model(request, pk):
    edition = await services.get_edition(pk)
    return JsonResponse({"title": edition.book.title})  # expect: AG104


async def iterate_helper_queryset(request):
    names = [b.author.name async for b in recent_books()]  # expect: AG104
    return JsonResponse({"names": names})


async def iterate_helper_chain(request):
    out = []
    async for b in services.recent_books().filter(title__startswith="A"):
        out.append(b.owner.username)  # expect: AG104
    return JsonResponse({"owners": out})


async def deferred_through_helper(request):
    out = []
    async for b in services.books_without_blurb():
        out.append(b.blurb)  # expect: AG104
    return JsonResponse({"blurbs": out})


# --- silent -----------------------------------------------------------------------------

async def selected_in_helper(request, pk):
    book = await services.get_book_with_author(pk)
    return JsonResponse({"author": book.author.name, "author_id": book.author_id})


async def selected_in_helper_by_name(request):
    edition = await services.first_edition()
    return JsonResponse({"title": edition.book.title})


async def helper_then_select_here(request):
    names = [b.author.name async for b in recent_books().select_related("author")]
    return JsonResponse({"names": names})


async def prefetched_in_helper(request):
    out = []
    async for b in books_for_list():
        out.append((b.author.name, b.edition.isbn))
    return JsonResponse({"rows": out})


async def unknown_names_in_helper(request):
    out = []
    async for b in services.books_related(["author"]):
        out.append(b.author.name)
    return JsonResponse({"rows": out})


async def only_columns(request, pk):
    book = await get_book(pk)
    return JsonResponse({"title": book.title, "blurb": book.blurb, "owner": book.owner_id})


async def loaded_before(request, pk):
    from asgiref.sync import sync_to_async

    book = await get_book(pk)
    author = await sync_to_async(getattr)(book, "author")
    return JsonResponse({"author": author.name, "again": book.author.name})


async def created_in_helper(request, author):
    book = await services.add_book(author, "T")
    return JsonResponse({"author": book.author.name})
