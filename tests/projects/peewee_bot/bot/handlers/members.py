"""Bot handlers: the models come from another module, the database from a third."""
import asyncio

from ..db import db
from ..models import Fixture, Member, Ticket


async def on_start(tg_id: int, name: str):
    member, created = Member.get_or_create(tg_id=tg_id)  # expect: AG401
    if member.name != name:
        member.name = name
        member.save()  # expect: AG401
    return created


async def on_ticket(tg_id: int, text: str):
    member = Member.get(Member.tg_id == tg_id)  # expect: AG401
    Ticket.create(member=member, text=text)  # expect: AG401
    with db.atomic():  # expect: AG401
        pass


async def on_list(tg_id: int):
    for ticket in Ticket.select().join(Member).where(Member.tg_id == tg_id):  # expect: AG401
        print(ticket.text)


# --- true negatives -------------------------------------------------------------------

def _close_all(tg_id):
    with db.atomic():
        Ticket.delete().where(Ticket.member == Member.get(Member.tg_id == tg_id)).execute()


async def on_close_all(tg_id: int):
    await asyncio.to_thread(_close_all, tg_id)


def sync_report():
    return Ticket.select().count()


async def fixture_only():
    return Fixture.get_or_none()


async def not_a_query(tickets: list):
    return tickets.count(1)
