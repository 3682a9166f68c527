"""The engine, the session factory and the FastAPI dependency (as in the SQLAlchemy asyncio docs)."""
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

engine = create_async_engine("postgresql+asyncpg://app@db/app")
async_session = async_sessionmaker(engine, expire_on_commit=False)

sync_engine = create_engine("postgresql+psycopg://app@db/app")
SyncSession = sessionmaker(bind=sync_engine)


async def get_session():
    async with async_session() as session:
        yield session
        await session.commit()
