from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from ..dependencies import SessionDep, TxSessionDep, get_begun_session, get_session
from ..models import Author, Book, Shelf

router = APIRouter()


@router.get("/authors/{author_id}/books")
async def author_books(author_id: int, session: SessionDep):
    author = await session.get(Author, author_id)
    titles = [b.title for b in author.books]  # expect: AG104
    return {"name": author.name, "titles": titles, "count": len(author.books)}


@router.get("/authors")
async def authors_page(session: AsyncSession = Depends(get_session)):
    result = await session.execute(select(Author).order_by(Author.name))
    first = result.scalars().first()
    return {"first": first.name, "books": len(first.books)}  # expect: AG104


@router.get("/authors/all")
async def all_authors(session: SessionDep):
    out = []
    for a in (await session.scalars(select(Author))).all():
        out.append({"name": a.name, "books": len(a.books)})  # expect: AG104
    return out


@router.post("/authors")
async def create_author(name: str, session: SessionDep):
    author = Author(name=name)
    session.add(author)
    await session.commit()
    return {"id": author.id}  # expect: AG104


@router.get("/books/{book_id}/reviews")
async def book_reviews(book_id: int, session: SessionDep):
    stmt = select(Book).where(Book.id == book_id).options(joinedload(Book.author))
    book = (await session.execute(stmt)).scalar_one()
    return {"author": book.author.name, "reviews": [r.stars for r in book.reviews]}  # expect: AG104


@router.get("/shelves/{shelf_id}")
async def shelf_parent(shelf_id: int, session: SessionDep):
    shelf = await session.scalar(select(Shelf).where(Shelf.id == shelf_id))
    return {"parent": shelf.parent.id if shelf.parent else None}  # expect: AG104


@router.post("/books")
async def add_book(title: str, author_id: int, session: SessionDep):  # expect: AG404
    session.add(Book(title=title, author_id=author_id))
    return {"ok": True}


# --- true negatives -------------------------------------------------------------------

@router.get("/v2/authors/{author_id}/books")
async def author_books_loaded(author_id: int, session: SessionDep):
    stmt = select(Author).where(Author.id == author_id).options(selectinload(Author.books))
    author = (await session.scalars(stmt)).one()
    return [b.title for b in author.books]


@router.get("/v3/authors/{author_id}/books")
async def author_books_awaited(author_id: int, session: SessionDep):
    author = await session.get(Author, author_id)
    books = await author.awaitable_attrs.books
    return [b.title for b in books]


@router.get("/v4/authors/{author_id}/books")
async def author_books_get_options(author_id: int, session: SessionDep):
    author = await session.get(Author, author_id, options=[selectinload(Author.books)])
    return [b.title for b in author.books]


@router.get("/books/{book_id}")
async def book_detail(book_id: int, session: SessionDep):
    # `author` is declared with `lazy="selectin"`; `title` is a column.
    book = await session.get(Book, book_id)
    return {"title": book.title, "author": book.author.name}


@router.post("/v2/authors")
async def create_author_refreshed(name: str, session: SessionDep):
    author = Author(name=name)
    session.add(author)
    await session.commit()
    await session.refresh(author)
    return {"id": author.id, "name": author.name}


@router.post("/v3/authors")
async def create_author_kept(name: str, session: TxSessionDep):
    # The dependency commits after the endpoint; its factory keeps objects loaded.
    author = Author(name=name)
    session.add(author)
    await session.flush()
    return {"id": author.id}


@router.post("/v2/books")
async def add_book_committed_by_dependency(title: str, author_id: int, session: TxSessionDep):
    session.add(Book(title=title, author_id=author_id))
    return {"ok": True}


@router.post("/v3/books")
async def add_book_begun(title: str, author_id: int, session: AsyncSession = Depends(get_begun_session)):
    session.add(Book(title=title, author_id=author_id))
    return {"ok": True}


@router.post("/v4/books")
async def add_book_committed(title: str, author_id: int, session: SessionDep):
    session.add(Book(title=title, author_id=author_id))
    await session.commit()
    return {"ok": True}


@router.get("/sync/authors/{author_id}")
def author_sync(author_id: int, session: SessionDep):
    # A plain `def` endpoint runs in FastAPI's threadpool.
    author = session.get(Author, author_id)
    return [b.title for b in author.books]


@router.get("/v5/authors/{author_id}")
async def author_unknown_statement(author_id: int, session: SessionDep, stmt=None):
    author = (await session.execute(stmt)).scalars().first()
    return [b.title for b in author.books]
