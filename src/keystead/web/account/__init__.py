"""The user's own account page (``/account``): profile, password, second factors."""
