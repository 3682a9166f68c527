from django.http import JsonResponse

from .bases import CourtSearch, Mixed


class CourtView(CourtSearch):
    async def get(self, request):
        courts = self.load_courts()  # expect: AG108
        return JsonResponse({"n": len(courts), "d": self.describe()})


class MixedView(Mixed):
    async def get(self, request):
        courts = self.load_courts()
        return JsonResponse({"n": len(courts)})
