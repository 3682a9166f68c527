"""Instances computed in a thread by another module's sync helpers, read on the loop."""
from asgiref.sync import sync_to_async
from django.http import JsonResponse

from shelf.catalog import lookups
from shelf.catalog.lookups import book_either, book_read_first, fetch_edition, fetch_edition_with_book


async def wrapped_module_helper(request, pk):
    book = await sync_to_async(lookups.book_or_none)(pk)
    if book is None:
        return JsonResponse({})
    return JsonResponse({"author": book.author.name})  # expect: AG104


async def decorated_helper(request, pk):
    edition = await fetch_edition(pk)
    return JsonResponse({"title": edition.book.title})  # expect: AG104


# --- silent -----------------------------------------------------------------------------

async def wrapped_selected(request, pk):
    book = await sync_to_async(lookups.book_with_author_or_none)(pk)
    return JsonResponse({"author": book.author.name})


async def decorated_selected(request, pk):
    edition = await fetch_edition_with_book(pk)
    return JsonResponse({"title": edition.book.title})


async def returns_disagree(request, pk):
    book = await sync_to_async(book_either)(pk, True)
    return JsonResponse({"author": book.author.name})


async def relation_read_in_helper(request, pk):
    book = await sync_to_async(book_read_first)(pk)
    return JsonResponse({"author": book.author.name})


async def read_in_thread(request, pk):
    book = await sync_to_async(lookups.book_or_none)(pk)
    name = await sync_to_async(lambda: book.author.name)()
    return JsonResponse({"author": name, "author_id": book.author_id})
