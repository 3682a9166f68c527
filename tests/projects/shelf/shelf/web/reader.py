"""`self.helper()` resolving to a sync method of a base class in another module (AG108)."""
from asgiref.sync import sync_to_async

from shelf.web import mixins
from shelf.web.mixins import ShelfBase


class Reader(ShelfBase):
    async def receive_json(self, content):
        titles = self.titles()  # expect: AG108
        self.mark_read(content["pk"])  # expect: AG108
        await self.send_json({"titles": titles})

    async def quiet(self, content):
        # silent: offloaded, decorated with database_sync_to_async, lazy queryset, no DB work
        titles = await sync_to_async(self.titles)()
        count = await self.count_books()
        qs = self.lazy_books()
        label = self.label(content)
        await self.send_json({"titles": titles, "count": count, "label": label, "qs": str(qs.query)})

    def sync_path(self):
        # silent: a sync caller
        return self.titles()


class ModuleReader(mixins.ShelfBase):
    async def receive_json(self, content):
        self.mark_read(content["pk"])  # expect: AG108
        await self.send_json({})

    async def own_helper(self, content):
        # silent: a method this class overrides without DB work
        await self.send_json({"t": self.titles()})

    def titles(self):
        return []
