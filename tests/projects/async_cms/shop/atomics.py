"""Homemade async atomic declared in one module, used in another (AG204)."""
from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.transaction import Atomic


class AsyncAtomic(Atomic):  # expect: AG204
    __aenter__ = sync_to_async(Atomic.__enter__)
    __aexit__ = sync_to_async(Atomic.__exit__)


class Timer:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None


class TxWrapper:  # expect: AG204
    def __init__(self, using=None):
        self._atomic = transaction.atomic(using=using)

    async def __aenter__(self):
        await sync_to_async(self._atomic.__enter__)()
        return self

    async def __aexit__(self, *exc):
        await sync_to_async(self._atomic.__exit__)(*exc)
