"""Administrative services shared by the CLI (and later the admin REST API): never raw SQL."""
