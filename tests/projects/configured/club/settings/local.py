from club.settings.base import Base


class Local(Base):
    DEBUG = True
