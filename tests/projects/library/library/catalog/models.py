from django.db import models

from .querysets import BookQuerySet, PublishedManager


class TimeStamped(models.Model):
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Author(TimeStamped):
    name = models.CharField(max_length=100)


class Book(TimeStamped):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField("Tag")
    on_loan = models.BooleanField(default=False)
    published = models.BooleanField(default=True)

    objects = BookQuerySet.as_manager()
    live = PublishedManager()


class Tag(models.Model):
    name = models.CharField(max_length=50)
