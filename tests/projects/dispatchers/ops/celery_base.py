from celery import Task, shared_task


class TrackedTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        return None


def tracked_task(**options):
    return shared_task(base=TrackedTask, **options)
