from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from shelf.catalog.models import Book


class ShelfConsumer(AsyncJsonWebsocketConsumer):
    def book_titles(self):
        return [b.title for b in Book.objects.all()]

    @database_sync_to_async
    def book_count(self):
        return Book.objects.count()

    async def receive_json(self, content):
        titles = self.book_titles()  # expect: AG108
        count = await self.book_count()
        first = await Book.objects.select_related("author").afirst()
        await self.send_json({"titles": titles, "count": count, "author": first.author.name})
