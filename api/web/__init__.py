"""What the API serves to browsers: the static files (vendored front-end packages) and the pages."""
