from . import atomics
from .atomics import AsyncAtomic, Timer
from .models import Order


async def place(total):
    async with AsyncAtomic(None, True, False):  # expect: AG204
        await Order.objects.acreate(total=total)


async def place_module(total):
    async with atomics.AsyncAtomic(None, True, False):  # expect: AG204
        await Order.objects.acreate(total=total)


async def timed(total):
    async with Timer():
        await Order.objects.acreate(total=total)
    async with atomics.Timer():
        await Order.objects.acreate(total=total)


async def wrapped(total):
    async with atomics.TxWrapper():  # expect: AG204
        await Order.objects.acreate(total=total)
