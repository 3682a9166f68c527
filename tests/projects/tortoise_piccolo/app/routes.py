"""Handlers that use the models and tables of the other modules."""
from fastapi import APIRouter

from app import models
from .models import Post, User
from .tables import Task

router = APIRouter()


@router.post("/users")
async def sign_up(email: str):
    User.create(email=email)  # expect: AG402
    return {"ok": True}


@router.get("/users/{uid}/posts")
async def titles(uid: int):
    return [p.title for p in Post.filter(author_id=uid)]  # expect: AG102


@router.delete("/posts/{pid}")
async def delete_post(pid: int):
    models.Post.filter(id=pid).delete()  # expect: AG402


@router.post("/tasks")
async def add_task(name: str):
    Task.insert(Task(name=name))  # expect: AG402


@router.get("/tasks")
async def open_tasks():
    return Task.select().where(Task.done == False).run_sync()  # expect: AG402


# --- true negatives -------------------------------------------------------------------

@router.post("/users/ok")
async def sign_up_ok(email: str):
    user = await User.create(email=email)
    return {"id": user.id}


@router.get("/users/{uid}/posts/ok")
async def titles_ok(uid: int):
    return [p.title async for p in Post.filter(author_id=uid)]


@router.delete("/posts/{pid}/ok")
async def delete_post_ok(pid: int):
    await models.Post.filter(id=pid).delete()


@router.post("/tasks/ok")
async def add_task_ok(name: str):
    await Task.insert(Task(name=name))


@router.get("/tasks/ok")
async def open_tasks_ok():
    return await Task.select().where(Task.done == False)


def lazy_posts(uid: int):
    return Post.filter(author_id=uid)
