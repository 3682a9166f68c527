from django.http import JsonResponse

from .models import SEARCH_TYPES
from .search_utils import enrich_search_results


async def opinions(request):
    results = []
    enrich_search_results(results, SEARCH_TYPES.OPINION)
    return JsonResponse({"results": results})


async def parentheticals(request):
    results = []
    enrich_search_results(results, SEARCH_TYPES.PARENTHETICAL)  # expect: AG108
    return JsonResponse({"results": results})


async def people(request):
    results = []
    search_type = SEARCH_TYPES.PEOPLE
    enrich_search_results(results, search_type)  # expect: AG108
    return JsonResponse({"results": results})


async def any_type(request):
    results = []
    enrich_search_results(results, request.GET["type"])  # expect: AG108
    return JsonResponse({"results": results})


async def no_query_type(request):
    results = []
    kind = SEARCH_TYPES.OPINION
    enrich_search_results(results, search_type=kind)
    return JsonResponse({"results": results})
