"""Password hashing: Argon2id with parameters a web worker can afford.

Django's Argon2 defaults (100 MiB of memory, 8 lanes, 2 passes) make every sign-in allocate 100 MiB
in the worker that checks it: a worker of about 120 MiB peaked at 224 MiB on one sign-in, and a few
sign-ins at once multiply that. These are OWASP's recommended Argon2id settings (19 MiB, 2 passes,
1 lane; Password Storage Cheat Sheet), about 20 ms per hash. The parameters are stored in each hash,
so hashes made with other ones still verify, and Django rehashes them with these on the next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2PasswordHasher


class Argon2PasswordHasher(DjangoArgon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
