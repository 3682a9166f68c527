from django.db import models

from .base import AsyncModel


class Order(AsyncModel):
    total = models.IntegerField()


class Note(models.Model):
    text = models.TextField()
