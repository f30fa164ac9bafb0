"""Password hashing: Argon2id with parameters a web worker can afford.

Django's Argon2 defaults (100 MiB of memory, 8 lanes, 2 passes) make every sign-in allocate 100 MiB
in the worker that checks it: a worker of about 120 MiB peaked at 224 MiB on one sign-in, and a few
sign-ins at once multiply that. These are one of OWASP's equally strong Argon2id settings (Password
Storage Cheat Sheet): 7 MiB, 5 passes, 1 lane — the one with the least memory, which a worker of
under 100 MiB can spare (19 MiB and 2 passes raised its peak by as much), and about 30 ms per hash.
The parameters are stored in each hash, so hashes made with other ones still verify, and Django
rehashes them with these on the next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2PasswordHasher


class Argon2PasswordHasher(DjangoArgon2PasswordHasher):
    time_cost = 5
    memory_cost = 7 * 1024  # KiB
    parallelism = 1
