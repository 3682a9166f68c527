"""Sync helpers of a consumer base class; the consumers that use them are in another module."""
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from shelf.catalog.models import Book


class ShelfBase(AsyncJsonWebsocketConsumer):
    def titles(self):
        return [b.title for b in Book.objects.all()]

    def mark_read(self, pk):
        Book.objects.filter(pk=pk).update(title="read")

    def lazy_books(self):
        return Book.objects.filter(title__startswith="A")

    @database_sync_to_async
    def count_books(self):
        return Book.objects.count()

    def label(self, book):
        return f"{book}"
