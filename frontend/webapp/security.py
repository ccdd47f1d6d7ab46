"""Security headers for every page of the frontend."""

from flask import Flask

SECURITY_HEADERS = {
    # Only our own stylesheet and map, nothing inline, no scripts at all; forms post
    # only back to us; no page may frame this one (clickjacking).
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    # Browsers must trust our Content-Type, never guess another from the content.
    "X-Content-Type-Options": "nosniff",
    # The page's address (with what a user typed) is not sent to other sites.
    "Referrer-Policy": "no-referrer",
}


def add_security_headers(app: Flask) -> None:
    @app.after_request
    def secure(response):
        response.headers.update(SECURITY_HEADERS)
        return response
