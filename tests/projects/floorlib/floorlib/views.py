"""A library whose Django requirement is a range: 4.1 is its floor, not a pin."""
from django.db import models


class Item(models.Model):
    name = models.TextField()


async def touch(pk):
    item = await Item.objects.aget(pk=pk)
    await item.asave()
    return item


async def search(name):
    return await Item.objects.afilter(name=name)  # expect: AG109
