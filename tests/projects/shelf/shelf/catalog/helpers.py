from .models import Book


def books_with_authors():
    return Book.objects.select_related("author", "owner")


async def load_book(pk):
    return await Book.objects.aget(pk=pk)
