from .models import SEARCH_TYPES, Court, Person


def merge_courts_from_db(results, search_type):
    if search_type == SEARCH_TYPES.PARENTHETICAL:
        courts = {c.pk: c.citation for c in Court.objects.filter(pk__in=results)}
        for r in results:
            r["citation"] = courts.get(r["court_id"])


def merge_people(results, search_type, request_type="frontend"):
    match search_type:
        case SEARCH_TYPES.PEOPLE if request_type != "v4":
            names = {p.pk: p.name for p in Person.objects.filter(pk__in=results)}
            for r in results:
                r["name"] = names.get(r["id"])
