from asgiref.sync import sync_to_async
from django.http import JsonResponse

from library.catalog import models
from library.catalog.models import Author, Book
from . import services
from .services import books_by, newest_books, open_loans


async def available_count(request):
    n = Book.objects.available().count()  # expect: AG101
    m = await Book.objects.available().acount()
    return JsonResponse({"n": n, "m": m})


async def live_book(request, pk):
    book = Book.live.get(pk=pk)  # expect: AG101
    other = await Book.live.aget(pk=pk)
    return JsonResponse({"t": book.title, "o": other.title})


async def module_qualified(request, pk):
    book = models.Book.objects.get(pk=pk)  # expect: AG101
    same = await models.Book.objects.aget(pk=pk)
    return JsonResponse({"t": book.title, "s": same.title})


async def loans_of(request, pk):
    book = await Book.objects.aget(pk=pk)
    busy = book.loans.filter(returned=False).exists()  # expect: AG101
    free = await book.loans.filter(returned=True).aexists()
    titles = [t.name async for t in book.tags.all()]
    return JsonResponse({"busy": busy, "free": free, "tags": titles})


async def by_author(request, pk):
    author = await Author.objects.aget(pk=pk)
    qs = await books_by(author)
    for b in qs:  # expect: AG102
        print(b.title)
    async for b in qs:
        print(b.title)
    return JsonResponse({})


async def newest(request):
    qs = await newest_books()
    return JsonResponse({"n": len(qs)})  # expect: AG102


async def open_for(request, pk):
    book = await Book.objects.aget(pk=pk)
    loans = open_loans(book)
    n = await loans.acount()
    also = services.open_loans(book)
    first = also.first()  # expect: AG101
    return JsonResponse({"n": n, "f": str(first)})


async def offloaded(request, pk):
    # Everything here runs in a thread: silent.
    n = await sync_to_async(lambda: Book.objects.available().count())()
    loans = await sync_to_async(list)(open_loans(pk))
    return JsonResponse({"n": n, "l": len(loans)})


def sync_view(request, pk):
    # A sync view: every query here is fine.
    book = Book.objects.get(pk=pk)
    n = Book.live.count()
    m = models.Book.objects.available().count()
    busy = book.loans.exists()
    return JsonResponse({"n": n, "m": m, "busy": busy})
