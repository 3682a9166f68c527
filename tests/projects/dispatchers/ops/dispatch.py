"""The project's own task dispatcher: published over the project's own bus, not Celery."""
from ops import bus


class task:
    def __init__(self, queue=None):
        self.queue = queue

    def __call__(self, fn):
        def apply_async(args=None, kwargs=None):
            bus.publish(self.queue, fn.__name__, args or [], kwargs or {})

        def delay(*args, **kwargs):
            return apply_async(args, kwargs)

        fn.apply_async = apply_async
        fn.delay = delay
        return fn


def queued_task(fn):
    fn.delay = lambda *a, **k: bus.publish("default", fn.__name__, a, k)
    return fn
