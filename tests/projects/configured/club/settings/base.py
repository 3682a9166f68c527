"""django-configurations: the settings are class attributes, and the class is named by
DJANGO_CONFIGURATION (manage.py)."""
from configurations import Configuration, values


class Base(Configuration):
    SECRET_KEY = values.SecretValue()
    INSTALLED_APPS = ["django.contrib.auth", "club.members", "club.accounts"]
    AUTH_USER_MODEL = "members.User"
