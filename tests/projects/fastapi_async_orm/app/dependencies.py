"""FastAPI dependencies: one that only closes the session, one that commits after the endpoint."""
from typing import Annotated, AsyncIterator

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from .db import KeepSession, SessionLocal


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


async def get_tx_session() -> AsyncIterator[AsyncSession]:
    async with KeepSession() as session:
        yield session
        await session.commit()


async def get_begun_session() -> AsyncIterator[AsyncSession]:
    async with KeepSession.begin() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
TxSessionDep = Annotated[AsyncSession, Depends(get_tx_session)]
