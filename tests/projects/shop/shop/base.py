"""Project base classes: an async save for Django 4.1, and a Celery task base that
dispatches only once the surrounding transaction commits."""
from asgiref.sync import sync_to_async
from celery import Task
from django.db import models, transaction


class AsyncModel(models.Model):
    async def asave(self, *args, **kwargs):
        return await sync_to_async(self.save)(*args, **kwargs)

    class Meta:
        abstract = True


class CommitBoundTask(Task):
    def apply_async(self, args=None, kwargs=None, **options):
        send = super().apply_async
        transaction.on_commit(lambda: send(args, kwargs, **options))
