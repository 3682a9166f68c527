from celery import shared_task

from ops.dispatch import queued_task, task


@task(queue="inventory")
def rebuild_inventory(inventory_id):
    return inventory_id


@queued_task
def refresh_counts(inventory_id):
    return inventory_id


@shared_task
def email_owner(inventory_id):
    return inventory_id


from ops.celery_base import tracked_task  # noqa: E402


@tracked_task(queue="mail")
def email_admins(inventory_id):
    return inventory_id
