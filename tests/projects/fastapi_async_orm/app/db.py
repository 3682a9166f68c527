"""Engine, session factories and the declarative base (SQLAlchemy 2.x asyncio style)."""
from sqlalchemy.ext.asyncio import AsyncAttrs, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

engine = create_async_engine("postgresql+asyncpg://library@db/library")

# `expire_on_commit` left on: a commit expires every loaded object.
SessionLocal = async_sessionmaker(engine)
# The setting the asyncio docs recommend.
KeepSession = async_sessionmaker(engine, expire_on_commit=False)


class Base(AsyncAttrs, DeclarativeBase):
    pass


class PlainBase(DeclarativeBase):
    pass
