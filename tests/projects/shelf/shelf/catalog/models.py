from django.db import models

from .base import Owned


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(Owned):
    title = models.CharField(max_length=200)
    blurb = models.TextField()
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")


class Edition(models.Model):
    book = models.OneToOneField("catalog.Book", on_delete=models.CASCADE, related_name="edition")
    isbn = models.CharField(max_length=13)
