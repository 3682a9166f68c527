"""Async code dispatching tasks of the project's own dispatchers (silent) and Celery's (AG306)."""
from ops.tasks import email_admins, email_owner, rebuild_inventory, refresh_counts


async def restock(inventory_id):
    email_owner.delay(inventory_id)  # expect: AG306
    email_admins.apply_async(args=[inventory_id])  # expect: AG306


async def restock_on_the_project_bus(inventory_id):
    rebuild_inventory.delay(inventory_id)
    refresh_counts.apply_async(args=[inventory_id])
    return inventory_id
