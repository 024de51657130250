"""The web app (FastAPI): pages for the network's people and a JSON API."""
