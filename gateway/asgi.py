"""An import path for ASGI servers: ``uvicorn gateway.asgi:app`` (settings from the env)."""

from gateway.app import create_app

app = create_app()
