from django.db import models

from library.catalog.models import Book, TimeStamped


class Loan(TimeStamped):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="loans")
    member = models.CharField(max_length=100)
    returned = models.BooleanField(default=False)
