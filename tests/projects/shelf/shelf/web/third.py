"""Instances whose query a helper builds on a third module's query builder."""
from django.http import JsonResponse

from shelf.catalog import services


async def via_queries(request, pk):
    book = await services.get_book_via_queries(pk)
    return JsonResponse({"author": book.author.name})  # expect: AG104


# --- silent -----------------------------------------------------------------------------

async def via_queries_selected(request, pk):
    book = await services.get_book_with_author_via_queries(pk)
    return JsonResponse({"author": book.author.name})


async def via_queries_selected_in_helper(request, pk):
    book = await services.get_book_selected_here(pk)
    return JsonResponse({"author": book.author.name})


async def via_queries_column(request, pk):
    book = await services.get_book_via_queries(pk)
    return JsonResponse({"author": book.author_id})
