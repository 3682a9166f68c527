from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer

from notifications.events import push
from notifications.events.push import group_name, notify_group, notify_group_async, notify_group_offloaded, notify_user
from notifications.events.relay import relay_name, relay_to_user
from outside_package.events import notify_everyone


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content):
        notify_group("live", content)  # expect: AG301
        push.notify_user(content["user"], content)  # expect: AG301
        relay_to_user(content["user"], content)  # expect: AG301

    async def disconnect(self, code):
        # true negatives: offloaded, async, outside the project, no async_to_sync inside
        await sync_to_async(notify_user)(1, {})
        await notify_group_offloaded("live", {})
        await notify_group_async("live", {})
        notify_everyone({})
        await self.channel_layer.group_discard(group_name(1), self.channel_name)
        relay_name(1)


class SyncLiveConsumer(JsonWebsocketConsumer):
    def receive_json(self, content):
        # true negatives: sync code may call async_to_sync
        notify_group("live", content)
        relay_to_user(content["user"], content)
