from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class Member(AbstractUser):
    nickname = models.CharField(max_length=40)
    favourite = models.ForeignKey("catalog.Book", null=True, blank=True, on_delete=models.SET_NULL, related_name="fans")


class Profile(models.Model):
    member = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    bio = models.TextField()


class Badge(models.Model):
    member = models.OneToOneField("people.Member", on_delete=models.CASCADE)
