"""Tortoise models: an abstract base of the project, and models deriving it."""
from tortoise import fields, models


class Timestamped(models.Model):
    created = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True


class User(Timestamped):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=255, unique=True)


class Post(Timestamped):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=255)
    author = fields.ForeignKeyField("models.User", related_name="posts")
