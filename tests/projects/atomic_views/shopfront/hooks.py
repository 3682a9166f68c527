from shopfront.api import orders


@orders.post("/hooks/{name}")
async def hook(request, name: str):  # expect: AG206
    return {"name": name}


async def deliver(name):
    return name
