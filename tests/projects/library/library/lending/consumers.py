from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from library.catalog.models import Book
from library.lending.models import Loan
from thirdparty.models import Widget
from thirdparty.store import Store


class LoanConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content):
        loan = Loan.objects.select_related("book").get(pk=content["id"])  # expect: AG101
        book = await Book.objects.select_related("author").aget(pk=content["book"])
        n = Loan.objects.filter(book=book).count()  # expect: AG101
        await self.send_json({"loan": loan.pk, "n": n, "w": Widget.objects.get(pk=1).pk})  # expect: AG101

    async def outside(self):
        # Not known to be a model (outside the project, not from a models module): silent.
        return Store.objects.get(pk=1)

    @database_sync_to_async
    def load(self, pk):
        return Loan.objects.get(pk=pk)

    async def handle(self, pk):
        loan = await self.load(pk)
        return loan.pk
