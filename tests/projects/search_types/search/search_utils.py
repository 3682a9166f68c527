from . import es_utils


def enrich_search_results(results, search_type):
    es_utils.merge_courts_from_db(results, search_type)
    es_utils.merge_people(results, search_type)
