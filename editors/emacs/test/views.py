from django.http import JsonResponse

from .models import Book


async def book_detail(request, pk):
    book = Book.objects.get(pk=pk)
    return JsonResponse({"title": book.title})


async def book_count(request):
    n = await Book.objects.acount()
    return JsonResponse({"n": n})


def book_title(pk):
    return Book.objects.get(pk=pk).title
