"""The admin console at /admin (issue 27): server-rendered pages that call services/ only,
like the admin API and the CLI. Sign-in: web/console/signin.py; each visit: common.py."""
