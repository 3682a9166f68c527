from django.db import models


class BookQuerySet(models.QuerySet):
    def available(self):
        return self.filter(on_loan=False)

    def by(self, author):
        return self.filter(author=author).order_by("title")

    def newest(self):
        # Runs a query: not a queryset.
        return self.order_by("-added").first()


class PublishedManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(published=True)
