"""Running astreinte: the web server (gunicorn), the worker and its sweeper, `astreinte up`'s
supervision of them, and the logging they share."""
