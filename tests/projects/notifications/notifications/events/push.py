"""Sync helpers that talk to the channel layer from sync code (Celery tasks, signals)."""
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer


def notify_group(group, payload):
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, {"type": "notify", **payload})


def notify_user(user_id, payload):
    notify_group(f"user-{user_id}", payload)


@sync_to_async
def notify_group_offloaded(group, payload):
    notify_group(group, payload)


async def notify_group_async(group, payload):
    await get_channel_layer().group_send(group, {"type": "notify", **payload})


def group_name(user_id):
    return f"user-{user_id}"
