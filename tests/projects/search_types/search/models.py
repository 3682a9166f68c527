from django.db import models


class SEARCH_TYPES:
    OPINION = "o"
    PARENTHETICAL = "pa"
    PEOPLE = "pe"


class Court(models.Model):
    citation = models.CharField(max_length=20)


class Person(models.Model):
    name = models.CharField(max_length=20)
