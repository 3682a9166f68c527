SECRET_KEY = "test"
INSTALLED_APPS = ["django.contrib.auth", "shelf.people", "shelf.catalog"]
AUTH_USER_MODEL = "people.Member"
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}
