"""The studio's API, one router per concern (mounted under /api by `app.create_app`)."""
