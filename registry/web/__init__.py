"""Flask blueprints: public pages, the JSON API, the ingest API, well-known documents and errors."""
