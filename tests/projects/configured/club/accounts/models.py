from django.db import models


class User(models.Model):
    """A linked GitHub account: a model named like the user model, in another app."""

    login = models.CharField(max_length=100)
