from asgiref.sync import sync_to_async

from library.catalog.models import Book
from .models import Loan


def open_loans(book):
    # Only builds a lazy queryset: calling it runs no query.
    return Loan.objects.filter(book=book, returned=False)


@sync_to_async
def books_by(author):
    return Book.objects.filter(author=author)


async def newest_books():
    return Book.objects.order_by("-added")


def close_loan(loan_id):
    loan = Loan.objects.get(pk=loan_id)
    loan.returned = True
    loan.save()
    return loan


def first_loan(book):
    return Loan.objects.filter(book=book).first()
