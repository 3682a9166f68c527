from .models import Court


class BaseSearch:
    def load_courts(self):
        return list(Court.objects.all())

    def describe(self):
        return "search"


class CourtSearch(BaseSearch):
    # Inherits load_courts() from BaseSearch.
    label = "courts"


class Mixin:
    def load_courts(self):
        return []


class Mixed(Mixin, BaseSearch):
    # Two bases: which load_courts() runs is not followed across modules.
    pass
