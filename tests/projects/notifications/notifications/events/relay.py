"""A helper two modules away from the async code: relay → push."""
from .push import notify_user


def relay_to_user(user_id, payload):
    notify_user(user_id, payload)


def relay_name(user_id):
    return str(user_id)
