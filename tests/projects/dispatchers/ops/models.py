from django.db import models, transaction

from ops.tasks import email_admins, email_owner, rebuild_inventory, refresh_counts


class Inventory(models.Model):
    pending_deletion = models.BooleanField(default=False)

    @transaction.atomic
    def schedule_deletion(self):
        self.pending_deletion = True
        self.save(update_fields=["pending_deletion"])
        # The project's own dispatcher: unknown delivery, silent.
        rebuild_inventory.delay(self.pk)
        refresh_counts.delay(self.pk)
        # Celery: before COMMIT.
        email_owner.delay(self.pk)  # expect: AG208
        # A project decorator built on Celery's shared_task: Celery.
        email_admins.delay(self.pk)  # expect: AG208

    @transaction.atomic
    def delete_children(self):
        def mark():
            Inventory.objects.filter(pk=self.pk).delete()
            rebuild_inventory.delay(self.pk)

        mark()
        self.save()
