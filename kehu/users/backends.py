"""Answers `user.has_perm()` from the user's role (kehu.users.roles)."""

from django.contrib.auth.backends import ModelBackend

from kehu.users.models import User
from kehu.users.roles import ADMIN, role_permissions


class RoleBackend(ModelBackend):
    def get_user(self, user_id):
        # The department is needed by every scoped query: load it with the user.
        user = User.objects.select_related("department").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        if user_obj.is_superuser:
            return ADMIN
        return role_permissions(user_obj.role)

    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)

    def authenticate(self, request, username=None, password=None, **kwargs):
        # People sign in with their username or their email.
        if username and "@" in username:
            match = User.objects.filter(email__iexact=username).values_list("username", flat=True).first()
            if match:
                username = match
        return super().authenticate(request, username=username, password=password, **kwargs)
