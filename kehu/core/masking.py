"""The one helper that masks sensitive values for people outside the account team."""


def mask(value) -> str:
    """ "13812345678" → "138****5678"; short values keep only their first character."""
    if value in (None, ""):
        return ""
    value = str(value)
    if len(value) >= 8:
        return value[:3] + "****" + value[-4:]
    return value[:1] + "*" * (len(value) - 1)
