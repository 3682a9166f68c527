"""Sync lookups run through sync_to_async by the views (web/offloaded.py)."""
from asgiref.sync import sync_to_async

from .models import Book, Edition


def book_or_none(pk):
    try:
        return Book.objects.get(pk=pk)
    except Book.DoesNotExist:
        return None


def book_with_author_or_none(pk):
    try:
        return Book.objects.select_related("author").get(pk=pk)
    except Book.DoesNotExist:
        return None


def book_either(pk, full):
    if full:
        return Book.objects.select_related("author").get(pk=pk)
    return Book.objects.get(pk=pk)


def book_read_first(pk):
    book = Book.objects.get(pk=pk)
    print(book.author.name)
    return book


@sync_to_async
def fetch_edition(pk):
    return Edition.objects.get(pk=pk)


@sync_to_async
def fetch_edition_with_book(pk):
    return Edition.objects.select_related("book").get(pk=pk)
