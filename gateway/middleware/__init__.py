"""Pure ASGI middleware, one class per module (Starlette's layout)."""
