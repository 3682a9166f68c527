from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import SyncSession, async_session, get_session
from ..models import User

router = APIRouter()


async def add_user(name: str):
    async with async_session() as s:  # expect: AG404
        s.add(User(name=name))
        await s.flush()


async def remove_user(pk: int):
    async with async_session() as s:
        user = await s.get(User, pk)
        s.delete(user)  # expect: AG402
        await s.commit()


async def report():
    with SyncSession() as s:
        return s.scalars(select(User)).all()  # expect: AG401


async def legacy(pk: int):
    async with async_session() as s:
        return s.query(User).get(pk)  # expect: AG403


# --- true negatives -------------------------------------------------------------------

@router.post("/users")
async def create_user(name: str, session: AsyncSession = Depends(get_session)):
    # The dependency commits after `yield`.
    session.add(User(name=name))
    await session.flush()
    return {"ok": True}


async def add_user_ok(name: str):
    async with async_session.begin() as s:
        s.add(User(name=name))


async def names():
    async with async_session() as s:
        return (await s.scalars(select(User.name))).all()


def sync_report():
    with SyncSession() as s:
        return s.scalars(select(User)).all()
