from ninja import NinjaAPI, Router

api = NinjaAPI()
orders = Router()
api.add_router("/orders/", orders)
