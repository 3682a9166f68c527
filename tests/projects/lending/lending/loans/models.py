from django.db import models


class Member(models.Model):
    name = models.CharField(max_length=50)


class Loan(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="loans")
    returned = models.BooleanField(default=False)
