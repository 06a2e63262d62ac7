from wuye.accounts.actor import lazy_request_actor


class ActorMiddleware:
    """Attach ``request.actor`` (resolved lazily, at most once per request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = lazy_request_actor(request)
        return self.get_response(request)
