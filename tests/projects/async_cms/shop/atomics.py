"""Homemade async atomic declared in one module, used in another (AG204)."""
from asgiref.sync import sync_to_async
from django.db.transaction import Atomic


class AsyncAtomic(Atomic):  # expect: AG204
    __aenter__ = sync_to_async(Atomic.__enter__)
    __aexit__ = sync_to_async(Atomic.__exit__)


class Timer:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None
