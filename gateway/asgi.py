"""An import path for ASGI servers: ``uvicorn gateway.asgi:app`` (settings from the env)."""

from clientgraph.settings import Settings
from clientgraph.telemetry.setup import observe
from gateway.app import create_app
from gateway.collector import settle

settings = Settings()
observe(settings, "gateway", "json")  # each of uvicorn's worker processes has its own
app = create_app(settings)
settle()  # this process's startup objects are left out of every later collection
