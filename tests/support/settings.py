"""Addresses of the real services the tests use, overridable from the environment."""

import os

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PLATFORM_DOMAIN = "localhost"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ARTIFACTS_DIR = os.environ.get("TEST_ARTIFACTS_DIR", "test-artifacts")

# The app connects as an ordinary role that owns no table, so row-level security binds it as in
# production and a missing tenant filter fails a test; the schema is built and emptied as the owner.
TEST_APP_ROLE = os.environ.get("TEST_APP_ROLE", "billfold_app")
TEST_APP_DATABASE_URL = TEST_DATABASE_URL.replace("://postgres@", f"://{TEST_APP_ROLE}@", 1)
