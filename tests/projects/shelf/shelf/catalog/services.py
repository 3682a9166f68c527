from django.db.models import Prefetch

from . import queries
from .models import Book, Edition


async def get_book(pk):
    return await Book.objects.aget(pk=pk)


async def get_book_with_author(pk):
    return await Book.objects.select_related("author").aget(pk=pk)


async def get_edition(pk):
    return await Edition.objects.aget(pk=pk)


async def first_edition():
    return await Edition.objects.select_related("book").afirst()


def recent_books():
    return Book.objects.order_by("-id")


def books_for_list():
    return Book.objects.select_related("author").prefetch_related(Prefetch("edition"))


def books_related(names):
    return Book.objects.select_related(*names)


def books_without_blurb():
    return Book.objects.defer("blurb")


async def add_book(author, title):
    return await Book.objects.acreate(author=author, title=title)


async def get_book_via_queries(pk):
    return await queries.all_books().aget(pk=pk)


async def get_book_with_author_via_queries(pk):
    return await queries.books_with_author().aget(pk=pk)


async def get_book_selected_here(pk):
    return await queries.all_books().select_related("author").aget(pk=pk)
