import dorm

from . import breakers
from .breakers import lock, payments


class Payment(dorm.Model):
    amount = dorm.IntegerField()


async def charge(amount):
    with payments:  # expect: AG309
        await Payment.objects.acreate(amount=amount)
    with breakers.payments:  # expect: AG309
        await Payment.objects.acreate(amount=amount)


async def correct(amount):
    async with payments.aprotect():
        await Payment.objects.acreate(amount=amount)
    with lock:
        await Payment.objects.acreate(amount=amount)
    with breakers.lock:
        await Payment.objects.acreate(amount=amount)
