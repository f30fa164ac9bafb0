"""Who an owner column names: a login, a display name (中文姓名 such as 张伟) or an e-mail address,
among the people the importer may give records to. A display name two of them share names
nobody: the row says so and asks for the login."""

from django.utils.translation import gettext as _

from kehu.users.models import User

AMBIGUOUS = object()


class OwnerLookup:
    def __init__(self, users):
        self.by_key: dict[str, object] = {}
        users = list(users)
        names: dict[str, list[User]] = {}
        for user in users:
            names.setdefault(user.display_name.strip().lower(), []).append(user)
        for name, same in names.items():
            if name:
                self.by_key[name] = same[0] if len(same) == 1 else AMBIGUOUS
        for user in users:
            if user.email:
                self.by_key.setdefault(user.email.strip().lower(), user)
        # A login always names its user, whatever display name another person has.
        self.by_key.update({user.username.lower(): user for user in users})

    def find(self, text: str) -> tuple[User | None, str]:
        """(the user, "") or (None, why not) for the text of an owner cell."""
        found = self.by_key.get(text.strip().lower())
        if found is AMBIGUOUS:
            return None, _("Several people are called “%(name)s”: write the user name instead.") % {"name": text}
        return found, ""

    def get(self, text: str) -> User | None:
        found = self.by_key.get(text.strip().lower())
        return None if found is AMBIGUOUS else found
