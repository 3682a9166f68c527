from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from lending.loans.services import close_loan, count_open, greeting


class LoanConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content):
        loan = close_loan(content["id"])  # expect: AG108
        n = await database_sync_to_async(count_open)(content["member"])
        await self.send_json({"id": loan.pk, "n": n, "hi": greeting("x")})

    def helper(self):
        return count_open(1)
