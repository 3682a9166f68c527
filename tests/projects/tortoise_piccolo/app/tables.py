"""Piccolo tables."""
from piccolo.columns import Boolean, Varchar
from piccolo.table import Table


class Task(Table):
    name = Varchar()
    done = Boolean(default=False)
