def publish(queue, name, args, kwargs):
    return (queue, name, args, kwargs)
