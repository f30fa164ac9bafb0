from kehu.core.navigation import menu_for


def navigation(request):
    """The menu: only what the user's role may open, with the current page's section highlighted."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu": None}
    match = getattr(request, "resolver_match", None)
    return {"menu": menu_for(user, match.view_name if match else "")}
