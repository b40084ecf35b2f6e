"""The API in-process: see ``library_client`` in tests/conftest.py (the routers on a plain FastAPI app over a
real store holding a small synthetic library with a built index, through Starlette's test client)."""
