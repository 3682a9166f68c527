"""Query builders a third module starts its chains from (services.py builds on them, the
views read the instances)."""
from .models import Book


def all_books():
    return Book.objects.all()


def books_with_author():
    return Book.objects.select_related("author")
