"""pytest plugin (loaded with `-p`) that sets the test environment before Django reads settings.

Real environment variables win, so CI can point DATABASE_URL at PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS_ONLY", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("LOG_FORMAT", "text")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="portal-test-var-"))
os.makedirs(os.path.join(os.environ["VAR_DIR"], "static"), exist_ok=True)
