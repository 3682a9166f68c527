from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    github = models.OneToOneField("accounts.User", null=True, blank=True, on_delete=models.SET_NULL)
    nickname = models.CharField(max_length=40)


class Mentor(models.Model):
    member = models.ForeignKey("members.User", on_delete=models.CASCADE)
