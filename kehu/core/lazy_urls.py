"""A URL resolver that imports its module only when a path under it is resolved or one of its own
names reversed.

Django's resolver imports an included module at once (`include()`), and the root resolver's first
`reverse()` populates every child. This one stays unloaded until it is itself asked, so the pages of
a web worker do not pay for what only the API needs (config/urls.py).
"""

from django.urls import URLResolver
from django.urls.resolvers import RoutePattern


class LazyURLResolver(URLResolver):
    def __init__(self, route: str, urlconf_name: str, *, app_name: str, namespace: str):
        # A namespace is required: the root resolver then reverses this one's names only through it.
        super().__init__(RoutePattern(route), urlconf_name, app_name=app_name, namespace=namespace)

    @property
    def loaded(self) -> bool:
        return "url_patterns" in self.__dict__  # the cached_property has run

    def _populate(self):
        # The root resolver populates its children when it first reverses any name; this one waits
        # until it is used (reverse_dict and friends below load it first).
        if self.loaded:
            super()._populate()

    @property
    def reverse_dict(self):
        self.url_patterns  # noqa: B018 (loads the module)
        return super().reverse_dict

    @property
    def namespace_dict(self):
        self.url_patterns  # noqa: B018
        return super().namespace_dict

    @property
    def app_dict(self):
        self.url_patterns  # noqa: B018
        return super().app_dict
