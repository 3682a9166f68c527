"""Settings read by AG106 (SESSION_ENGINE: Django's default, the database) and AG206."""
SECRET_KEY = "not-secret"
INSTALLED_APPS = ["django.contrib.sessions", "shopfront"]
ROOT_URLCONF = "site_cfg.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "ATOMIC_REQUESTS": True,
    }
}
