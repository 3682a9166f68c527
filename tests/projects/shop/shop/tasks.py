from celery import shared_task

from .base import CommitBoundTask


@shared_task
def send_receipt(pk):
    return pk


@shared_task(base=CommitBoundTask)
def reindex(pk):
    return pk
