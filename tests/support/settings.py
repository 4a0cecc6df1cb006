"""Settings of the test run. The database and Redis are the session's own throwaway servers
(tests/support/services.py) unless TEST_DATABASE_URL / TEST_REDIS_URL name others."""

import os

PLATFORM_DOMAIN = "localhost"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ARTIFACTS_DIR = os.environ.get("TEST_ARTIFACTS_DIR", "test-artifacts")

# The app connects as an ordinary role that owns no table, so row-level security binds it as in
# production and a missing tenant filter fails a test; the schema is built and emptied as the owner.
TEST_APP_ROLE = os.environ.get("TEST_APP_ROLE", "billfold_app")
