"""Models bound through a base class declared here; the database comes from bot.db."""
from peewee import BigIntegerField, CharField, ForeignKeyField, Model

from .db import db, test_db


class BaseModel(Model):
    class Meta:
        database = db


class Member(BaseModel):
    tg_id = BigIntegerField(unique=True)
    name = CharField(null=True)


class Ticket(BaseModel):
    member = ForeignKeyField(Member, backref="tickets")
    text = CharField()


class Fixture(Model):
    class Meta:
        database = test_db
