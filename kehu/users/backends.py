"""Answers `user.has_perm()` from the user's role (kehu.users.roles)."""

from django.contrib.auth.backends import ModelBackend

from kehu.users.models import User
from kehu.users.roles import ADMIN, role_permissions


class RoleBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        if user_obj.is_superuser:
            return set(ADMIN)
        return set(role_permissions(user_obj.role))

    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)

    def authenticate(self, request, username=None, password=None, **kwargs):
        # People sign in with their username or their email.
        if username and "@" in username:
            match = User.objects.filter(email__iexact=username).values_list("username", flat=True).first()
            if match:
                username = match
        return super().authenticate(request, username=username, password=password, **kwargs)
