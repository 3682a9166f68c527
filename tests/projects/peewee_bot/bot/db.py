"""The database, chosen from the environment (playhouse.db_url), and a proxy for tests."""
import os

from peewee import DatabaseProxy
from playhouse.db_url import connect

db = connect(os.environ.get("DATABASE_URL", "sqlite:///bot.db"))
test_db = DatabaseProxy()
